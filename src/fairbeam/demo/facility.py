"""The demo facility's fixed data: its beamlines and its people.

Every name here is fictional: the people, their e-mail addresses and ORCID iDs
exist only in the demo.
"""

from __future__ import annotations

from dataclasses import dataclass

from fairbeam.demo.topics import (
    BIOSAXS_TOPICS,
    MX_TOPICS,
    SAXS_TOPICS,
    TOMO_TOPICS,
    XRD_TOPICS,
    XRF_TOPICS,
    Topic,
)


@dataclass(frozen=True)
class Beamline:
    """A beamline of the demo facility and the proposals it hosts."""

    name: str
    full_name: str
    description: str
    techniques: tuple[str, ...]
    kind: str  # how it acquires and processes: a key of GENERATORS in demo/plan.py
    prefixes: tuple[str, ...]  # proposal codes (MX-2471) of its scientific areas
    industrial: str  # industrial proposal code prefix (IH-MX-1500)
    weight: int  # relative share of the facility's investigations
    method: str  # one sentence of the abstract: what the beamline lets the team do
    topics: tuple[Topic, ...]


@dataclass(frozen=True)
class Person:
    """A demo person: the login accounts get a password, the others only take part."""

    username: str
    full_name: str
    orcid: str | None = None  # the first 15 digits; the check digit is computed


BEAMLINES = (
    Beamline(
        "ID23",
        "ID23-1 Macromolecular Crystallography",
        "Energy-tunable, micro-focused beamline for automated MX, with robotic sample "
        "changer and on-line autoprocessing.",
        ("macromolecular crystallography",),
        "mx",
        ("MX",),
        "IH-MX",
        5,
        "Data will be collected at 100 K on the Eiger2 detector with automatic "
        "characterisation and processing.",
        MX_TOPICS,
    ),
    Beamline(
        "ID19",
        "ID19 Microtomography",
        "Long imaging beamline for full-field phase-contrast micro- and nanotomography "
        "with a large, coherent beam.",
        ("tomography", "phase contrast tomography"),
        "tomo",
        ("LS", "ES", "HG", "MA"),
        "IH-MA",
        3,
        "Propagation-based phase-contrast tomography will use pixel sizes from 0.7 to "
        "6.5 micrometres with Paganin phase retrieval.",
        TOMO_TOPICS,
    ),
    Beamline(
        "ID02",
        "ID02 Time-Resolved Ultra Small-Angle X-ray Scattering",
        "SAXS, USAXS and WAXS with sub-millisecond time resolution and detector distances "
        "up to 31 metres.",
        ("small angle X-ray scattering", "wide angle X-ray scattering"),
        "saxs",
        ("SC", "CH"),
        "IH-CH",
        3,
        "Simultaneous SAXS and WAXS will cover scattering vectors from 0.002 to 50 per nanometre.",
        SAXS_TOPICS,
    ),
    Beamline(
        "ID21",
        "ID21 X-ray Microscopy",
        "Scanning micro-spectroscopy from 2 to 11 keV: X-ray fluorescence mapping, "
        "micro-XANES and micro-diffraction, also under cryo conditions.",
        ("X-ray fluorescence", "X-ray absorption spectroscopy"),
        "xrf",
        ("HG", "ES", "LS"),
        "IH-CH",
        2,
        "Sub-micrometre X-ray fluorescence maps and XANES spectra at selected points "
        "will be recorded in vacuum.",
        XRF_TOPICS,
    ),
    Beamline(
        "ID11",
        "ID11 Materials Science",
        "High-energy diffraction and 3DXRD for grain-resolved studies of polycrystals, "
        "in situ under load, heat or pressure.",
        ("X-ray diffraction", "3D X-ray diffraction"),
        "xrd",
        ("MA", "HC", "ES"),
        "IH-MA",
        3,
        "High-energy 3DXRD and powder diffraction will be measured in situ on the "
        "nanoscope station.",
        XRD_TOPICS,
    ),
    Beamline(
        "BM29",
        "BM29 BioSAXS",
        "Solution small-angle scattering of biological macromolecules, in batch or "
        "on-line size-exclusion chromatography.",
        ("small angle X-ray scattering", "biological small angle scattering"),
        "biosaxs",
        ("MX", "LS"),
        "IH-LS",
        2,
        "Batch and SEC-SAXS data will be collected with the robotic sample changer "
        "and processed on-line.",
        BIOSAXS_TOPICS,
    ),
)

MANAGER = Person("dmorel", "Delphine Morel", "000000021825143")
# One staff member per beamline, in the order of BEAMLINES.
STAFF = (
    Person("lmartin", "Laura Martin", "000000027310442"),
    Person("pbianchi", "Paolo Bianchi", "000000031186509"),
    Person("akowalska", "Anna Kowalska", "000000029475120"),
    Person("jlefort", "Julien Lefort", None),
    Person("hlindqvist", "Henrik Lindqvist", "000000016634872"),
    Person("cortega", "Clara Ortega", "000000032290317"),
)
SCIENTISTS = (
    Person("aferreira", "Ana Ferreira", "000000019243518"),
    Person("bokafor", "Benedict Okafor", "000000027716034"),
    Person("wchen", "Wei Chen", "000000033318246"),
    Person("ihalvorsen", "Ingrid Halvorsen", None),
    Person("kmensah", "Kofi Mensah", "000000028857093"),
    Person("srossi", "Sofia Rossi", "000000014402687"),
)
# People who take part in proposals but have no password in the demo.
EXTERNALS = (
    Person("mnovak", "Marek Novak", "000000025523190"),
    Person("ytanaka", "Yuki Tanaka", None),
    Person("edubois", "Emma Dubois", "000000036621475"),
    Person("rsingh", "Rohan Singh", "000000017730964"),
    Person("lvogel", "Lena Vogel", None),
    Person("tmurphy", "Thomas Murphy", "000000024410358"),
    Person("gpapadakis", "Giorgos Papadakis", None),
    Person("nabdullah", "Nadia Abdullah", "000000030098721"),
    Person("pkowalczyk", "Piotr Kowalczyk", None),
    Person("cmoreau", "Camille Moreau", "000000029964403"),
    Person("jandersson", "Johan Andersson", None),
    Person("mgarcia", "Marta Garcia", "000000018325576"),
    Person("dokoro", "David Okoro", None),
    Person("sbergmann", "Sarah Bergmann", "000000027046639"),
    Person("fcosta", "Filipe Costa", None),
    Person("hnakamura", "Hana Nakamura", "000000035518820"),
)
# Clients of industrial proposals (the company's scientist is the PI).
INDUSTRIAL = (
    Person("rhartmann", "Ralf Hartmann", None),
    Person("vlambert", "Valerie Lambert", None),
)


def orcid(base: str) -> str:
    """A formatted ORCID iD from its first 15 digits, with the ISO 7064 11-2 check digit."""
    total = 0
    for digit in base:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    full = base + ("X" if result == 10 else str(result))
    return "-".join(full[i : i + 4] for i in range(0, 16, 4))
