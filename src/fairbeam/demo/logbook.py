"""The demo's logbooks: what the control software and the team wrote during each session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal
from fairbeam.access.service import get_user, principal_of
from fairbeam.catalogue.models import Dataset, Investigation, ParticipantRole
from fairbeam.demo.plan import InvestigationPlan
from fairbeam.logbook.schemas import EventIn
from fairbeam.logbook.service import post_events

SOFTWARE = "bliss"


def _notification(investigation: str, category: str, content: str, **links: int) -> EventIn:
    return EventIn.model_validate(
        {
            "investigation": investigation,
            "type": "notification",
            "category": category,
            "content": content,
            "format": "text",
            "software": SOFTWARE,
            **links,
        }
    )


def write_logbook(session: Session, software: Principal, plan: InvestigationPlan) -> int:
    """Post a session's notifications (as its beamline's software) and the principal
    investigator's annotations; returns how many events were written."""
    investigation = session.scalar(select(Investigation).where(Investigation.code == plan.code))
    assert investigation is not None
    datasets = session.execute(
        select(Dataset.id, Dataset.name, Dataset.type)
        .where(Dataset.investigation_id == investigation.id)
        .order_by(Dataset.start, Dataset.id)
    ).all()
    beamline = plan.beamline.name
    notifications = [
        _notification(plan.code, "info", f"Session of {plan.code} started on {beamline}")
    ]
    for index, (dataset_id, name, kind) in enumerate(datasets):
        if kind.value == "raw":
            notifications.append(
                _notification(
                    plan.code,
                    "commandLine",
                    f"newdataset('{name}'); loopscan(100, 0.1)",
                    dataset=dataset_id,
                )
            )
        notifications.append(
            _notification(
                plan.code,
                "info",
                f"Dataset {name} ({kind.value}) registered",
                dataset=dataset_id,
            )
        )
        if index == len(datasets) // 2:
            notifications.append(
                _notification(
                    plan.code,
                    "error",
                    "Detector: 3 frames lost during readout; the scan was repeated",
                    dataset=dataset_id,
                )
            )
    pi_name = next(
        username
        for username, role in plan.participants
        if role == ParticipantRole.principal_investigator
    )
    pi = principal_of(session, get_user(session, pi_name))
    first_sample = plan.datasets[0].sample.name if plan.datasets else "the first sample"
    annotations = [
        EventIn(
            investigation=plan.code,
            type="annotation",
            category="comment",
            content=f"**Beam aligned** on {beamline}; `{first_sample}` mounted.\n\n"
            "Transmission checked before the first scan.",
            tags=["alignment"],
        ),
        EventIn(
            investigation=plan.code,
            type="annotation",
            category="comment",
            content=f"End of the session: {len(datasets)} datasets. Next: processing and "
            "comparison with the previous beam time.",
            tags=["summary"],
        ),
    ]
    posted = post_events(session, software, notifications)
    posted += post_events(session, pi, annotations)
    return len(posted)
