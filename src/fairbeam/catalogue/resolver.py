"""Finding what a registration names (investigations, instruments, samples, parameter
types), creating what registration may create, once per batch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal, check_register
from fairbeam.audit.service import record
from fairbeam.catalogue.bulk import upsert_insert
from fairbeam.catalogue.models import Instrument, Investigation, ParameterType, Sample
from fairbeam.catalogue.schemas import DatasetIn, SampleIn
from fairbeam.catalogue.units import NormalisedValue
from fairbeam.errors import InvalidInput

# Keys per query when looking up names or existing datasets (bound parameters stay
# well under SQLite's limit).
LOOKUP_CHUNK = 500


class Resolver:
    """Finds investigations, instruments, samples and parameter types, creating the
    ones registration may create; caches what it found for the batch."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.instruments: dict[str, Instrument] = {}
        self.investigations: dict[tuple[str, str | None], Investigation] = {}
        self.by_code: dict[str, list[Investigation]] = {}

    def prefetch(self, items: list[DatasetIn]) -> None:
        """Read every investigation and instrument the batch names in one query each, not
        one per name."""
        names = sorted({i.instrument for i in items if i.instrument} - set(self.instruments))
        for start in range(0, len(names), LOOKUP_CHUNK):
            chunk = names[start : start + LOOKUP_CHUNK]
            query = select(Instrument).where(Instrument.name.in_(chunk))
            for instrument in self.session.scalars(query):
                self.instruments[instrument.name] = instrument
        codes = sorted({item.investigation for item in items} - set(self.by_code))
        for code in codes:
            self.by_code[code] = []
        for start in range(0, len(codes), LOOKUP_CHUNK):
            chunk = codes[start : start + LOOKUP_CHUNK]
            for found in self.session.scalars(
                select(Investigation).where(Investigation.code.in_(chunk))
            ):
                self.by_code[found.code].append(found)

    def instrument(self, name: str) -> Instrument:
        if name not in self.instruments:
            found = self.session.scalar(select(Instrument).where(Instrument.name == name))
            if found is None:
                raise InvalidInput(f"instrument {name!r} does not exist")
            self.instruments[name] = found
        return self.instruments[name]

    def investigation(self, item: DatasetIn, start: datetime) -> Investigation:
        key = (item.investigation, item.instrument)
        if key in self.investigations:
            return self.investigations[key]
        if item.investigation not in self.by_code:
            self.prefetch([item])
        wanted = None if item.instrument is None else self.instrument(item.instrument).id
        candidates = sorted(
            (
                c
                for c in self.by_code[item.investigation]
                if wanted is None or c.instrument_id == wanted
            ),
            key=lambda c: c.start,
            reverse=True,
        )
        during = [c for c in candidates if c.start <= start and (c.end is None or start <= c.end)]
        if during or candidates:
            chosen = (during or candidates)[0]
        elif item.instrument is None:
            raise InvalidInput(
                f"investigation {item.investigation!r} does not exist; create it first "
                "or name the `instrument` so a placeholder can be made"
            )
        elif self.by_code[item.investigation]:
            # A placeholder would clash with the existing proposal of that code.
            elsewhere = sorted({c.instrument.name for c in self.by_code[item.investigation]})
            raise InvalidInput(
                f"investigation {item.investigation!r} is on {', '.join(elsewhere)}, "
                f"not on instrument {item.instrument!r}"
            )
        else:
            chosen = self._placeholder(item, start)
        self.investigations[key] = chosen
        return chosen

    def _placeholder(self, item: DatasetIn, start: datetime) -> Investigation:
        # Data is never dropped for an unknown proposal: it waits, flagged for the
        # data manager, under an investigation made from what the software said.
        assert item.instrument is not None
        instrument = self.instrument(item.instrument)
        check_register(self.principal, instrument.id, instrument.name)
        placeholder = Investigation(
            code=item.investigation,
            title=f"Unknown proposal {item.investigation}",
            instrument_id=instrument.id,
            start=start,
            placeholder=True,
        )
        self.session.add(placeholder)
        self.session.flush()
        record(
            self.session,
            "investigation.placeholder",
            "investigation",
            placeholder.id,
            actor_id=self.principal.user_id,
            actor=self.principal.username or "system",
            code=item.investigation,
        )
        return placeholder

    def samples(
        self, wanted: set[tuple[int, str]], details: dict[tuple[int, str], SampleIn]
    ) -> dict[tuple[int, str], int]:
        if not wanted:
            return {}
        rows = [
            {
                "investigation_id": inv,
                "name": name,
                "chemical_formula": details[(inv, name)].chemical_formula,
                "description": details[(inv, name)].description,
            }
            for inv, name in sorted(wanted)
        ]
        statement = upsert_insert(self.session, Sample.__table__).on_conflict_do_nothing()
        self.session.execute(statement, rows)
        found = self.session.execute(
            select(Sample.investigation_id, Sample.name, Sample.id).where(
                tuple_(Sample.investigation_id, Sample.name).in_(sorted(wanted))
            )
        )
        return {(inv, name): sample_id for inv, name, sample_id in found}

    def parameter_types(self, first_units: dict[str, NormalisedValue]) -> dict[str, int]:
        if not first_units:
            return {}
        rows = [
            {"name": name, "unit": value.unit, "si_unit": value.si_unit, "description": ""}
            for name, value in sorted(first_units.items())
        ]
        statement = upsert_insert(self.session, ParameterType.__table__).on_conflict_do_nothing()
        self.session.execute(statement, rows)
        found = self.session.execute(
            select(ParameterType.name, ParameterType.id).where(
                ParameterType.name.in_(sorted(first_units))
            )
        )
        return {name: type_id for name, type_id in found}
