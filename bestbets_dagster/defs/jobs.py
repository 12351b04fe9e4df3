"""Every asset job, declared in jobs.yaml (name, description, assets, and `retry: true` for a job whose
steps are tried again on failure) and built here: the sensors and the commands ask for a job by its name
(`JOBS["morning_job"]`, `resolve_job_def("build_job")`)."""

from pathlib import Path

import yaml
from dagster import Backoff, RetryPolicy, define_asset_job

JOBS_FILE = Path(__file__).with_name("jobs.yaml")
# A step of a time-bound job (the slate: a missed 12:30 slate cannot be made up) tried 3 more times,
# 1, 2 and 4 minutes later.
TIME_BOUND_RETRY = RetryPolicy(max_retries=3, delay=60, backoff=Backoff.EXPONENTIAL)

all_jobs = [
    define_asset_job(
        name,
        spec["assets"],
        description=spec["description"],
        op_retry_policy=TIME_BOUND_RETRY if spec.get("retry") else None,
    )
    for name, spec in yaml.safe_load(JOBS_FILE.read_text()).items()
]
JOBS = {job.name: job for job in all_jobs}
