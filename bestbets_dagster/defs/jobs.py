"""Every asset job, declared in jobs.yaml (name, description, assets) and built here: the sensors and
the commands ask for a job by its name (`JOBS["morning_job"]`, `resolve_job_def("build_job")`)."""

from pathlib import Path

import yaml
from dagster import define_asset_job

JOBS_FILE = Path(__file__).with_name("jobs.yaml")

all_jobs = [
    define_asset_job(name, spec["assets"], description=spec["description"])
    for name, spec in yaml.safe_load(JOBS_FILE.read_text()).items()
]
JOBS = {job.name: job for job in all_jobs}
