"""The best-bets configuration: every threshold of the candidates, filters and scoring in one place.

Its version (a hash of its content) goes into every pick and decision snapshot, so a day's picks
can always be traced to the exact rules that made them.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json

from bestbets_dagster.betting import PICKEM_ENTRIES, entry_break_even, price_of

ALGORITHM_VERSION = "bb1_multi_source"

SETTING_DESCRIPTIONS = {
    "champion_family": "the family challengers are compared with in the monitoring's challenger alert",
    "selection": "ev: the card, every candidate that passes the filters ranked by its expected value at the shopped "
    "price (tier value at min_expected_value or more, lean below); edge: the original's rule, largest |edge| of "
    "min_edge or more",
    "min_expected_value": "the EV from which a pick of selection 'ev' is in the value tier (below: lean), in units "
    "per unit staked",
    "min_edge": "the |edge| floor of selection 'edge', in points",
    "shopping_books": "the books a bet may be placed at (empty: every book in the snapshot)",
    "nominal_price_books": "pick'em apps whose quoted price is a convention: judged at the break-even of pickem_entry",
    "pickem_entry": "the pick'em entry played (power_2..power_6, flex_3..flex_6): its per-leg break-even is the price "
    "a pick'em app's bet is judged and settled at (power_2, 3x for 2 of 2: 57.7%)",
    "min_signal_count": "the signals a candidate needs (model_health always counts, so 2 means one real signal)",
    "under_edge_cap": "an UNDER with |edge| at or above this is rejected (the model's big unders miss)",
    "under_edge_cap_exempt_families": "families whose UNDERs the cap does not apply to",
    "blacklist_edge": "the |edge| from which a pick counts toward the player blacklist and direction health",
    "blacklist_min_picks": "the decided picks a player needs this season before the blacklist judges him",
    "blacklist_max_hit_rate": "a player whose season hit rate is below this (percent) is blacklisted",
    "familiar_games": "games against this opponent in the last year from which a candidate is rejected",
    "min_feature_quality": "the available-feature quality score (0-100) a candidate needs",
    "bench_under_line": "an UNDER on a line below this is rejected (bench players)",
    "line_jump": "an UNDER after the line rose this many points or more is rejected",
    "line_drop": "an UNDER after the line fell this many points or more is rejected",
    "negative_plus_minus_games": "an UNDER after this many straight negative plus/minus games is rejected",
    "confidence_floors": "per family, the model confidence a candidate needs",
    "model_health_gate": "reject a family's candidates while its 7-day edge-3+ record is below 52.4% (rev 323)",
    "agreement_edge": "the |edge| from which another family's bet on the same side counts as agreement",
    "max_picks_per_day": "the size of the day's card (empty: as many as pass)",
    "direction_health_days": "the days of OVER / UNDER records the direction-health angle reads",
    "sourcing": "which family's bet a player-game's candidate takes: best (the highest EV, or |edge| under "
    "selection 'edge') or performance (Phase B: that value weighted by each model's state and recent hit rate)",
    "sourcing_state_weights": "Phase B: the weight of a model in each model_performance_daily state of the day "
    "before (BLOCKED 0: it supplies nothing)",
    "sourcing_hit_rate_prior": "Phase B: the decided bets at the breakeven 52.4% that a model's 14-day hit rate is "
    "shrunk with before it scales the weight",
    "signal_profiles": "per-family signal profiles: rules [signal, families, direction, weight] (signal a tag or *; "
    "families a family id, quantile, point or *; direction OVER, UNDER or *); the last matching rule wins; "
    "weight 0 blocks the signal (it neither counts nor scores), any other weight scales its health multiplier",
}

SOURCING_RULES = ("best", "performance")
# Settings of earlier versions that stored decision snapshots may still name (read, then ignored).
RETIRED_SETTINGS = ("nominal_book_price",)
PROFILE_DIRECTIONS = ("OVER", "UNDER", "*")


@dataclasses.dataclass(frozen=True)
class BestBetsConfig:
    champion_family: str = "v9_mae"  # the original's catboost_v9: V9 features, MAE loss
    # "ev": the candidate of a player-game is the family's bet with the highest expected value at its
    # shopped price; the day's card is the best max_picks_per_day of those that pass the filters, in
    # tier "value" when EV >= min_expected_value and "lean" below (the best the day offers, under its
    # price). "edge": the original's largest |edge|, kept when |edge| >= min_edge.
    selection: str = "ev"
    min_expected_value: float = 0.03  # units per unit staked: a margin for the probability's own error
    min_edge: float = 5.0
    # Line shopping: the books a bet may be placed at (empty: every book in the snapshot).
    shopping_books: tuple[str, ...] = ()
    # Pick'em apps quote one convention price (-137 in the Odds API) on both sides, not a price: their
    # bets are judged and settled at the per-leg break-even of the entry the user plays.
    nominal_price_books: tuple[str, ...] = ("prizepicks", "underdog")
    pickem_entry: str = "power_2"
    min_signal_count: int = 2  # model_health always qualifies, so this means one real signal
    under_edge_cap: float = 7.0
    under_edge_cap_exempt_families: tuple[str, ...] = ()
    blacklist_edge: float = 3.0
    blacklist_min_picks: int = 8
    blacklist_max_hit_rate: float = 40.0
    familiar_games: int = 6
    min_feature_quality: float = 85.0
    bench_under_line: float = 12.0
    line_jump: float = 2.0
    line_drop: float = 2.0
    negative_plus_minus_games: int = 3
    confidence_floors: tuple[tuple[str, float], ...] = (("v12_mae", 0.90),)  # the original's catboost_v12 floor
    # A family whose 7-day edge-3+ record is below 52.4% supplies no candidates. Off as at rev 307
    # (the spec's revision: "picks are produced even when the model is BLOCKED"); rev 323 turned it on.
    model_health_gate: bool = False
    agreement_edge: float = 3.0
    max_picks_per_day: int | None = 5  # the original's top five
    direction_health_days: int = 14
    # Phase B: "best" takes the family's bet with the highest value (EV, or |edge| under selection
    # "edge"), whatever that family's recent record; "performance" weights each eligible bet's value
    # by its model's state and shrunk 14-day hit rate as of the day before.
    sourcing: str = "best"
    sourcing_state_weights: tuple[tuple[str, float], ...] = (
        ("HEALTHY", 1.0),
        ("WATCH", 0.75),
        ("DEGRADING", 0.5),
        ("INSUFFICIENT_DATA", 0.75),
        ("BLOCKED", 0.0),
    )
    sourcing_hit_rate_prior: int = 50
    # Per-family signal profiles: (signal, families, direction, weight) rules, see signal_profiles.
    signal_profiles: tuple[tuple[str, str, str, float], ...] = ()

    def __post_init__(self):
        # Weights as floats, rules as tuples: the same settings hash to the same config_version whether
        # they come from the resource (floats) or from JSON (0 is an int there).
        object.__setattr__(
            self, "sourcing_state_weights", tuple((str(k), float(w)) for k, w in self.sourcing_state_weights)
        )
        for rule in self.signal_profiles:
            if len(rule) != 4:
                raise ValueError(f"a signal profile rule is [signal, families, direction, weight], got {list(rule)}")
        object.__setattr__(
            self, "signal_profiles", tuple((str(t), str(f), str(d), float(w)) for t, f, d, w in self.signal_profiles)
        )
        if self.pickem_entry not in PICKEM_ENTRIES:
            raise ValueError(f"pickem_entry must be one of {list(PICKEM_ENTRIES)}, got {self.pickem_entry!r}")
        if self.selection not in ("ev", "edge"):
            raise ValueError(f"selection must be 'ev' or 'edge', got {self.selection!r}")
        if self.sourcing not in SOURCING_RULES:
            raise ValueError(f"sourcing must be one of {list(SOURCING_RULES)}, got {self.sourcing!r}")
        for state, weight in self.sourcing_state_weights:
            if weight < 0:
                raise ValueError(f"sourcing_state_weights: the weight of {state} is negative ({weight})")
        for rule in self.signal_profiles:
            _, _, direction, weight = rule
            if direction not in PROFILE_DIRECTIONS:
                raise ValueError(f"signal profile {list(rule)}: direction must be one of {list(PROFILE_DIRECTIONS)}")
            if float(weight) < 0:
                raise ValueError(f"signal profile {list(rule)}: the weight must be >= 0")
        from bestbets_dagster.signals.registry import REGISTERED_TAGS  # the registry does not import this module

        unknown = sorted({rule[0] for rule in self.signal_profiles} - {*REGISTERED_TAGS, "*"})
        if unknown:
            raise ValueError(f"signal profiles name unknown signals {unknown}; known: {list(REGISTERED_TAGS)} or *")

    @property
    def pickem_break_even(self) -> float:
        """The per-leg win probability the pick'em entry played needs."""
        return entry_break_even(self.pickem_entry)

    @property
    def pickem_price(self) -> float:
        """The American price a pick'em app's bet is judged and settled at: that of the entry's break-even."""
        return float(price_of(self.pickem_break_even))

    def confidence_floor(self, family: str) -> float:
        return dict(self.confidence_floors).get(family, 0.0)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @functools.cached_property  # the settings are frozen; a season's picks ask for it some 1,600 times
    def version(self) -> str:
        text = json.dumps(self.as_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @classmethod
    def describe(cls, name: str) -> str:
        """The one-line description of a setting (the config view's and the resource's in the UI)."""
        return SETTING_DESCRIPTIONS[name]

    @classmethod
    def from_dict(cls, values: dict) -> BestBetsConfig:
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in values.items() if k not in RETIRED_SETTINGS}
        unknown = set(values) - fields
        if unknown:
            raise ValueError(f"unknown best-bets settings: {sorted(unknown)}")
        converted = {
            k: tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v
            for k, v in values.items()
        }
        return cls(**converted)
