"""Which medical specialties treat each trial indication, and which make a cell-therapy specialist.

A trial site's named pair (README.md, "Preparing a site for a trial") is one physician
who treats the disease and one who treats with the cells. An inspector checks that the
first is a specialist of the disease the site enrols for, and the second of cell therapy:
a dermatologist named for lupus nephritis, or a rheumatologist as the cell-therapy
specialist, makes the pair a formality. Specialties are the staff record's
(``StaffMember.specialties``, recorded by ``StaffSpecialtyRecorded``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from domain.product_events import Indication

RHEUMATOLOGY = "rheumatology"
INTERNAL_MEDICINE = "internal_medicine"
NEPHROLOGY = "nephrology"
DERMATOLOGY = "dermatology"
NEUROLOGY = "neurology"
HAEMATOLOGY = "haematology"
CELL_THERAPY = "cell_therapy"

TREATED_BY: Mapping[Indication, frozenset[str]] = {
    # Lupus is followed by rheumatologists and internists; lupus nephritis, the commonest refractory form, by
    # nephrologists.
    Indication.SYSTEMIC_LUPUS_ERYTHEMATOSUS: frozenset({RHEUMATOLOGY, INTERNAL_MEDICINE, NEPHROLOGY}),
    # Systemic sclerosis is a rheumatology and internal-medicine disease whose skin involvement dermatologists treat.
    Indication.SYSTEMIC_SCLEROSIS: frozenset({RHEUMATOLOGY, INTERNAL_MEDICINE, DERMATOLOGY}),
    # Myositis is treated in rheumatology and internal medicine, and in the neuromuscular (neurology) centres.
    Indication.INFLAMMATORY_MYOPATHY: frozenset({RHEUMATOLOGY, INTERNAL_MEDICINE, NEUROLOGY}),
    # Systemic vasculitis is an internal-medicine and rheumatology disease; ANCA vasculitis with renal
    # involvement is treated by nephrologists.
    Indication.VASCULITIS: frozenset({RHEUMATOLOGY, INTERNAL_MEDICINE, NEPHROLOGY}),
    # An autoimmune disease the list does not name: any of the specialties above may treat it; the RCP judges the fit.
    Indication.OTHER: frozenset({RHEUMATOLOGY, INTERNAL_MEDICINE, NEPHROLOGY, DERMATOLOGY, NEUROLOGY}),
}
"""Each indication and the specialties whose physicians treat it, so may be its disease specialist."""

CELL_THERAPY_SPECIALTIES = frozenset({HAEMATOLOGY, CELL_THERAPY})
"""The specialties of a cell-therapy specialist: CAR-T and MSC are given in haematology and cell-therapy units."""


def uncovered(indications: Iterable[str], specialties: Iterable[str]) -> list[str]:
    """The indications, in the order given, that none of ``specialties`` treats."""
    held = frozenset(specialties)
    return [name for name in indications if not TREATED_BY[Indication(name)] & held]


def describe_uncovered(indications: Iterable[str]) -> str:
    """Each uncovered indication with the specialties that would cover it: "vasculitis (internal_medicine, …)"."""
    return "; ".join(f"{name} needs {', '.join(sorted(TREATED_BY[Indication(name)]))}" for name in indications)


def is_cell_therapy_specialist(specialties: Iterable[str]) -> bool:
    """True when one of ``specialties`` is haematology or cell therapy."""
    return bool(CELL_THERAPY_SPECIALTIES & frozenset(specialties))
