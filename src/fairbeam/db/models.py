"""Every table, imported in one place so Alembic and create_all see them all."""

from fairbeam.access.models import ApiToken, Group, GroupMember, InstrumentStaff, User
from fairbeam.audit.models import AuditRecord
from fairbeam.catalogue.models import (
    Datafile,
    Dataset,
    DatasetInput,
    DatasetParameter,
    DatasetSummary,
    Facility,
    Instrument,
    Investigation,
    ParameterType,
    Participant,
    Sample,
)
from fairbeam.db.base import Base
from fairbeam.ingest.models import HarvestProblem, HarvestState
from fairbeam.logbook.models import (
    Logbook,
    LogbookAttachment,
    LogbookDay,
    LogbookEvent,
    LogbookEventVersion,
    LogbookTag,
)
from fairbeam.policy.models import (
    ArchiveBundle,
    Doi,
    DoiCollection,
    DoiCollectionDataset,
    EmbargoExtension,
    PolicyPass,
    RestoreRequest,
)

__all__ = [
    "ApiToken",
    "ArchiveBundle",
    "AuditRecord",
    "Base",
    "Datafile",
    "Dataset",
    "DatasetInput",
    "DatasetParameter",
    "DatasetSummary",
    "Doi",
    "DoiCollection",
    "DoiCollectionDataset",
    "EmbargoExtension",
    "Facility",
    "Group",
    "GroupMember",
    "HarvestProblem",
    "HarvestState",
    "Instrument",
    "InstrumentStaff",
    "Investigation",
    "Logbook",
    "LogbookAttachment",
    "LogbookDay",
    "LogbookEvent",
    "LogbookEventVersion",
    "LogbookTag",
    "ParameterType",
    "Participant",
    "PolicyPass",
    "RestoreRequest",
    "Sample",
    "User",
]
