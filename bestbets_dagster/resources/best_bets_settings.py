"""The best-bets rules as a resource, so that one setting reaches both pick_signal_tags and the
picks, and a run can override it from the launchpad (resources: best_bets: config: ...)."""

from typing import Optional

from dagster import Config, ConfigurableResource
from pydantic import Field

from bestbets_dagster.bestbets.config import BestBetsConfig

_DEFAULT = BestBetsConfig()
PROFILE_FIELDS = ("signal", "families", "direction", "weight")


class SignalProfileRule(Config):
    """One rule of a per-family signal profile (see bestbets.profiles)."""

    signal: str = Field(description="a registered signal tag, or * for every real signal")
    families: str = Field(description="a family id, quantile, point or *")
    direction: str = Field(description="OVER, UNDER or *")
    weight: float = Field(description="0 blocks the signal; any other weight scales its health multiplier")


def _setting(name: str):
    """A field with BestBetsConfig's default (tuples as the list / dict the launchpad edits) and its
    one-line description, shown on the resource in the UI."""
    default = getattr(_DEFAULT, name)
    if name in ("confidence_floors", "sourcing_state_weights"):
        default = dict(default)
    elif name == "signal_profiles":
        default = [dict(zip(PROFILE_FIELDS, rule)) for rule in default]
    elif isinstance(default, tuple):
        default = list(default)
    return Field(default=default, description=BestBetsConfig.describe(name))


class BestBetsSettings(ConfigurableResource):
    champion_family: str = _setting("champion_family")
    selection: str = _setting("selection")
    min_expected_value: float = _setting("min_expected_value")
    min_edge: float = _setting("min_edge")
    shopping_books: list[str] = _setting("shopping_books")
    nominal_price_books: list[str] = _setting("nominal_price_books")
    pickem_entry: str = _setting("pickem_entry")
    min_signal_count: int = _setting("min_signal_count")
    under_edge_cap: float = _setting("under_edge_cap")
    under_edge_cap_exempt_families: list[str] = _setting("under_edge_cap_exempt_families")
    blacklist_edge: float = _setting("blacklist_edge")
    blacklist_min_picks: int = _setting("blacklist_min_picks")
    blacklist_max_hit_rate: float = _setting("blacklist_max_hit_rate")
    familiar_games: int = _setting("familiar_games")
    min_feature_quality: float = _setting("min_feature_quality")
    bench_under_line: float = _setting("bench_under_line")
    line_jump: float = _setting("line_jump")
    line_drop: float = _setting("line_drop")
    negative_plus_minus_games: int = _setting("negative_plus_minus_games")
    confidence_floors: dict[str, float] = _setting("confidence_floors")
    model_health_gate: bool = _setting("model_health_gate")
    agreement_edge: float = _setting("agreement_edge")
    max_picks_per_day: Optional[int] = _setting("max_picks_per_day")
    direction_health_days: int = _setting("direction_health_days")
    sourcing: str = _setting("sourcing")
    sourcing_state_weights: dict[str, float] = _setting("sourcing_state_weights")
    sourcing_hit_rate_prior: int = _setting("sourcing_hit_rate_prior")
    signal_profiles: list[SignalProfileRule] = _setting("signal_profiles")

    def config(self) -> BestBetsConfig:
        values = {name: getattr(self, name) for name in BestBetsConfig.__dataclass_fields__}
        for name in ("under_edge_cap_exempt_families", "shopping_books", "nominal_price_books"):
            values[name] = tuple(getattr(self, name))
        values["confidence_floors"] = tuple(sorted(self.confidence_floors.items()))
        values["sourcing_state_weights"] = tuple(self.sourcing_state_weights.items())
        values["signal_profiles"] = tuple(
            tuple(getattr(rule, name) for name in PROFILE_FIELDS) for rule in self.signal_profiles
        )
        return BestBetsConfig(**values)
