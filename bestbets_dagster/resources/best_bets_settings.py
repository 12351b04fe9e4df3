"""The best-bets rules as a resource, so that one setting reaches both pick_signal_tags and the
picks, and a run can override it from the launchpad (resources: best_bets: config: ...)."""

from typing import Optional

from dagster import ConfigurableResource

from bestbets_dagster.bestbets.config import BestBetsConfig

_DEFAULT = BestBetsConfig()


class BestBetsSettings(ConfigurableResource):
    champion_family: str = _DEFAULT.champion_family
    selection: str = _DEFAULT.selection
    min_expected_value: float = _DEFAULT.min_expected_value
    min_edge: float = _DEFAULT.min_edge
    shopping_books: list[str] = list(_DEFAULT.shopping_books)
    nominal_price_books: list[str] = list(_DEFAULT.nominal_price_books)
    nominal_book_price: int = _DEFAULT.nominal_book_price
    min_signal_count: int = _DEFAULT.min_signal_count
    under_edge_cap: float = _DEFAULT.under_edge_cap
    under_edge_cap_exempt_families: list[str] = list(_DEFAULT.under_edge_cap_exempt_families)
    blacklist_edge: float = _DEFAULT.blacklist_edge
    blacklist_min_picks: int = _DEFAULT.blacklist_min_picks
    blacklist_max_hit_rate: float = _DEFAULT.blacklist_max_hit_rate
    familiar_games: int = _DEFAULT.familiar_games
    min_feature_quality: float = _DEFAULT.min_feature_quality
    bench_under_line: float = _DEFAULT.bench_under_line
    line_jump: float = _DEFAULT.line_jump
    line_drop: float = _DEFAULT.line_drop
    negative_plus_minus_games: int = _DEFAULT.negative_plus_minus_games
    confidence_floors: dict[str, float] = dict(_DEFAULT.confidence_floors)
    model_health_gate: bool = _DEFAULT.model_health_gate
    agreement_edge: float = _DEFAULT.agreement_edge
    max_picks_per_day: Optional[int] = _DEFAULT.max_picks_per_day
    direction_health_days: int = _DEFAULT.direction_health_days

    def config(self) -> BestBetsConfig:
        values = {name: getattr(self, name) for name in BestBetsConfig.__dataclass_fields__}
        for name in ("under_edge_cap_exempt_families", "shopping_books", "nominal_price_books"):
            values[name] = tuple(getattr(self, name))
        values["confidence_floors"] = tuple(sorted(self.confidence_floors.items()))
        return BestBetsConfig(**values)
