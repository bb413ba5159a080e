"""Lines of research the demo proposals pursue, with the samples they measure.

Titles and aims are fictional, written to read like real proposals.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SampleSpec:
    """A specimen a topic measures: a short name usable in paths, and its formula."""

    name: str
    formula: str
    description: str


@dataclass(frozen=True)
class Topic:
    """A line of research a proposal on a beamline pursues."""

    title: str
    aim: str
    samples: tuple[SampleSpec, ...]


def _s(name: str, formula: str, description: str) -> SampleSpec:
    return SampleSpec(name, formula, description)


LYSOZYME = _s("lysozyme", "C613H959N193O185S10", "hen egg-white lysozyme, tetragonal crystals")
MX_TOPICS = (
    Topic(
        "Fragment screening of the SARS-CoV-2 main protease",
        "We will soak crystals of the main protease with a 600-fragment library to find "
        "starting points for non-covalent inhibitors.",
        (
            _s("Mpro-A", "C1504H2338N400O447S22", "Mpro crystal soaked with fragment pool A"),
            _s("Mpro-B", "C1504H2338N400O447S22", "Mpro crystal soaked with fragment pool B"),
        ),
    ),
    Topic(
        "Structural basis of substrate recognition by a bacterial ABC transporter",
        "We aim to determine the structures of the transporter in its inward- and "
        "outward-facing states bound to its peptide substrate.",
        (
            _s("OppA-pep", "C2680H4150N700O820S12", "periplasmic binding protein with peptide"),
            _s("OppA-apo", "C2680H4150N700O820S12", "ligand-free crystals"),
        ),
    ),
    Topic(
        "Room-temperature serial crystallography of photoactive yellow protein",
        "Serial data at room temperature will reveal the chromophore's isomerisation "
        "intermediates without cryo-cooling artefacts.",
        (_s("PYP", "C629H967N169O195S5", "photoactive yellow protein microcrystals"),),
    ),
    Topic(
        "Ligand binding to human carbonic anhydrase II at atomic resolution",
        "Sub-angstrom data of inhibitor complexes will show the protonation states in "
        "the active site that drive the inhibitors' selectivity.",
        (
            _s("hCAII-AZM", "C1315H2045N359O385S3Zn", "hCA II with acetazolamide"),
            _s("hCAII-SLC", "C1315H2045N359O385S3Zn", "hCA II with SLC-0111"),
        ),
    ),
    Topic(
        "Anomalous phasing of a novel viral polymerase",
        "Selenomethionine crystals will give experimental phases for a polymerase with "
        "no homologue of known structure.",
        (_s("RdRp-SeMet", "C4480H7010N1210O1350S30Se18", "selenomethionine derivative"),),
    ),
    Topic(
        "Calibration and method development on tetragonal lysozyme",
        "Reference collections on lysozyme will characterise the new detector's point "
        "spread and the beam's stability over long acquisitions.",
        (LYSOZYME, _s("thaumatin", "C937H1425N257O290S17", "thaumatin bipyramids")),
    ),
    Topic(
        "Structures of plant photosystem assembly factors",
        "We will solve the structures of three assembly factors to explain how they "
        "chaperone chlorophyll insertion.",
        (
            _s("PsbP", "C930H1460N250O290S4", "assembly factor PsbP"),
            _s("Ycf48", "C1710H2650N460O530S8", "assembly factor Ycf48"),
        ),
    ),
)

TOMO_TOPICS = (
    Topic(
        "Microstructure of Neanderthal and modern human dental enamel",
        "Phase-contrast tomography will map incremental growth lines to compare "
        "developmental timing of the two species.",
        (
            _s("tooth-M1", "Ca10(PO4)6(OH)2", "first molar, Middle Palaeolithic"),
            _s("tooth-M2", "Ca10(PO4)6(OH)2", "second molar, modern reference"),
        ),
    ),
    Topic(
        "Operando imaging of lithium plating in cylindrical cells",
        "Fast tomography during cycling will show where lithium plates and how cracks "
        "grow in the graphite anode.",
        (
            _s("cell-18650", "LiNi0.8Mn0.1Co0.1O2", "18650 cell, NMC811 cathode"),
            _s("cell-21700", "LiNi0.8Co0.15Al0.05O2", "21700 cell, NCA cathode"),
        ),
    ),
    Topic(
        "Three-dimensional histology of human lung tissue",
        "Virtual histology of paraffin-embedded biopsies will quantify alveolar damage "
        "without sectioning.",
        (_s("lung-biopsy", "C6H10O5", "paraffin-embedded biopsy"),),
    ),
    Topic(
        "Fossil embryos from the Ediacaran",
        "Sub-micron phase-contrast scans will resolve cell boundaries of phosphatised "
        "embryos and test their animal affinity.",
        (_s("embryo-W1", "Ca5(PO4)3F", "phosphatised embryo, Weng'an biota"),),
    ),
    Topic(
        "Crack propagation in fibre-reinforced concrete under load",
        "In situ tomography under compression will follow crack networks and fibre "
        "pull-out to calibrate damage models.",
        (_s("concrete-core", "CaCO3", "steel-fibre reinforced core, 8 mm"),),
    ),
    Topic(
        "Wood cell-wall architecture after thermal modification",
        "Tomography of heat-treated wood will relate pore connectivity to the material's "
        "water uptake.",
        (
            _s("spruce-HT", "C6H10O5", "spruce, 210 degC treatment"),
            _s("spruce-ref", "C6H10O5", "untreated spruce reference"),
        ),
    ),
)

SAXS_TOPICS = (
    Topic(
        "Self-assembly kinetics of surfactant micelles by stopped-flow SAXS",
        "Millisecond time-resolved scattering will follow the sphere-to-rod transition "
        "of mixed surfactant micelles.",
        (_s("SDS-DTAB", "C12H25NaO4S", "mixed anionic/cationic surfactant"),),
    ),
    Topic(
        "Crystallisation of semiconducting polymers during printing",
        "Simultaneous SAXS and WAXS during blade coating will relate drying speed to "
        "the films' crystallinity.",
        (_s("P3HT-film", "(C10H14S)n", "regioregular P3HT thin film"),),
    ),
    Topic(
        "Structure of cellulose nanocrystal suspensions under shear",
        "Rheo-SAXS will measure orientation of the nanocrystals as a function of shear "
        "rate for injectable hydrogels.",
        (
            _s("CNC-2wt", "(C6H10O5)n", "cellulose nanocrystals, 2 wt%"),
            _s("CNC-5wt", "(C6H10O5)n", "cellulose nanocrystals, 5 wt%"),
        ),
    ),
    Topic(
        "Nucleation of silica nanoparticles in microfluidic reactors",
        "Ultra small-angle scattering will capture the first seconds of silica particle "
        "nucleation and growth.",
        (_s("silica-np", "SiO2", "Stober silica particles"),),
    ),
    Topic(
        "Ordering of block copolymer thin films on patterned substrates",
        "Grazing-incidence SAXS will measure the long-range order of lamellae on "
        "chemically patterned templates.",
        (_s("PS-b-PMMA", "(C8H8)n(C5H8O2)m", "lamellar block copolymer film"),),
    ),
)

XRF_TOPICS = (
    Topic(
        "Degradation of chrome yellow pigments in Van Gogh's paintings",
        "Micro-XRF and Cr K-edge XANES on paint cross-sections will map the reduction "
        "of Cr(VI) to Cr(III) that darkens the yellows.",
        (
            _s("paint-CS1", "PbCrO4", "chrome yellow cross-section"),
            _s("paint-CS2", "PbCr0.5S0.5O4", "lemon chrome cross-section"),
        ),
    ),
    Topic(
        "Arsenic speciation in contaminated river sediments",
        "As K-edge spectroscopy on sediment thin sections will identify the mineral "
        "hosts that control arsenic release.",
        (_s("sediment-R3", "FeAsO4", "river sediment thin section"),),
    ),
    Topic(
        "Zinc uptake and storage in hyperaccumulating plant leaves",
        "Cryo micro-XRF of frozen-hydrated leaves will locate zinc in tissues and Zn "
        "K-edge XANES will give its chemical form.",
        (_s("leaf-Zn", "C6H12O6", "frozen-hydrated Noccaea leaf"),),
    ),
    Topic(
        "Sulfur chemistry in ancient shipwreck timbers",
        "S K-edge XANES maps will quantify reduced sulfur that threatens the "
        "conservation of waterlogged wood.",
        (_s("timber-V1", "C6H10O5", "waterlogged oak fragment"),),
    ),
    Topic(
        "Iron oxidation state in Martian meteorite analogues",
        "Fe K-edge XANES mapping will measure Fe3+/Fe total ratios in olivine and alteration rims.",
        (_s("basalt-NWA", "Mg1.6Fe0.4SiO4", "olivine-phyric basalt"),),
    ),
)

XRD_TOPICS = (
    Topic(
        "Grain-resolved stresses in additively manufactured Ti-6Al-4V",
        "3DXRD under tensile load will measure the stress tensor of thousands of grains "
        "to explain early fatigue crack initiation.",
        (_s("Ti64-AM", "Ti0.9Al0.06V0.04", "laser powder-bed fusion dogbone"),),
    ),
    Topic(
        "Phase transitions in NMC811 cathodes during fast charging",
        "Operando diffraction will follow the H2-H3 transition and the lattice collapse "
        "at high states of charge.",
        (_s("NMC811", "LiNi0.8Mn0.1Co0.1O2", "pouch cell cathode"),),
    ),
    Topic(
        "Recrystallisation of cold-rolled 316L stainless steel",
        "In situ 3DXRD during annealing will follow nucleation and growth of new grains "
        "in the deformed matrix.",
        (_s("steel-316L", "Fe0.68Cr0.17Ni0.12Mo0.03", "80% cold-rolled sheet"),),
    ),
    Topic(
        "High-pressure olivine to wadsleyite transformation",
        "Diffraction in a diamond anvil cell will give the kinetics of the transformation "
        "at mantle transition zone pressures.",
        (_s("olivine-DAC", "Mg1.8Fe0.2SiO4", "San Carlos olivine in DAC"),),
    ),
    Topic(
        "Ice nucleation on feldspar surfaces",
        "Grain-scale diffraction on cooled feldspar will reveal the crystal faces where "
        "ice nucleates first.",
        (
            _s("feldspar-K", "KAlSi3O8", "microcline fragment"),
            _s("CeO2-ref", "CeO2", "ceria calibrant"),
        ),
    ),
)

BIOSAXS_TOPICS = (
    Topic(
        "Conformational flexibility of a multi-domain antibody",
        "SEC-SAXS will characterise the ensemble of hinge conformations of a "
        "therapeutic IgG1 in solution.",
        (
            _s("IgG1", "C6400H9900N1700O2000S44", "humanised IgG1, 10 mg/ml"),
            _s("Fab", "C2100H3250N560O670S12", "Fab fragment"),
        ),
    ),
    Topic(
        "Solution structure of nucleosome remodelling complexes",
        "Batch SAXS of the complex with and without ATP will show how the remodeller "
        "changes shape on binding.",
        (_s("nucleosome", "C10000H16000N3000O3500P290S40", "reconstituted nucleosome"),),
    ),
    Topic(
        "Oligomerisation of bovine serum albumin under crowding",
        "Concentration series will give the effective interactions of albumin in "
        "crowded solutions.",
        (_s("BSA", "C2934H4615N781O897S39", "bovine serum albumin"),),
    ),
    Topic(
        "Intrinsically disordered regions of a stress granule protein",
        "SAXS with molecular dynamics will describe the ensemble of the low-complexity "
        "domain as a function of salt.",
        (_s("FUS-LC", "C900H1400N260O340S2", "FUS low-complexity domain"),),
    ),
)
