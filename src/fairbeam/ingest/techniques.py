"""NeXus application definitions mapped to technique names of the PaNET ontology."""

from __future__ import annotations

# Keys are lowercase definition names; values are PaNET technique labels.
DEFINITION_TECHNIQUES: dict[str, str] = {
    "nxmx": "macromolecular crystallography",
    "nxtomo": "tomography",
    "nxtomophase": "tomography",
    "nxtomoproc": "tomography",
    "nxsas": "small angle scattering",
    "nxcansas": "small angle scattering",
    "nxsastof": "small angle neutron scattering",
    "nxxas": "X-ray absorption spectroscopy",
    "nxxasproc": "X-ray absorption spectroscopy",
    "nxfluo": "X-ray fluorescence",
    "nxarpes": "angle-resolved photoemission spectroscopy",
    "nxmpes": "photoemission spectroscopy",
    "nxxps": "X-ray photoelectron spectroscopy",
    "nxmonopd": "powder diffraction",
    "nxstxm": "scanning transmission X-ray microscopy",
    "nxrefscan": "reflectometry",
    "nxreftof": "reflectometry",
    "nxspe": "inelastic neutron scattering",
    "nxdirecttof": "direct geometry spectroscopy",
    "nxindirecttof": "indirect geometry spectroscopy",
    "nxtas": "triple axis spectroscopy",
    "nxtofnpd": "neutron powder diffraction",
    "nxxrot": "X-ray diffraction",
    "nxxbase": "X-ray diffraction",
    "nxxeuler": "X-ray single crystal diffraction",
    "nxxkappa": "X-ray single crystal diffraction",
    "nxxlaue": "Laue diffraction",
    "nxxlaueplate": "Laue diffraction",
    "nxxnb": "X-ray diffraction",
    "nxsqom": "inelastic scattering",
    "nxlauetof": "Laue diffraction",
    "nxiqproc": "small angle scattering",
    "nxraman": "Raman spectroscopy",
    "nxellipsometry": "ellipsometry",
    "nxem": "electron microscopy",
    "nxapm": "atom probe tomography",
    "nxmpes_arpes": "angle-resolved photoemission spectroscopy",
    "nxxpcs": "X-ray photon correlation spectroscopy",
    "nxxrd": "X-ray diffraction",
    "nxxrd_pan": "X-ray powder diffraction",
    "nxsnsevent": "neutron scattering",
    "nxsnshisto": "neutron scattering",
    "nxoptical_spectroscopy": "optical spectroscopy",
}


def technique_for(definition: str | None) -> str | None:
    """Return the PaNET technique name for an application definition, or None when unknown."""
    if not definition:
        return None
    return DEFINITION_TECHNIQUES.get(definition.strip().lower())
