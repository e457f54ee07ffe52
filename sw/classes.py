"""The 17 rhythm classes of Pławiak's data set: ids, short names, folders and expected counts.

Class ids are 1..17 as in the data set; the network's output index is ``class_id - 1``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RhythmClass:
    id: int
    name: str
    description: str
    folder: str
    count: int


CLASSES: tuple[RhythmClass, ...] = tuple(
    RhythmClass(i, name, desc, f"{i:02d}_{name}", count)
    for i, (name, desc, count) in enumerate(
        [
            ("NSR", "normal sinus rhythm", 283),
            ("APB", "atrial premature beat", 66),
            ("AFL", "atrial flutter", 20),
            ("AFIB", "atrial fibrillation", 135),
            ("SVTA", "supraventricular tachyarrhythmia", 13),
            ("WPW", "pre-excitation (Wolff-Parkinson-White)", 21),
            ("PVC", "premature ventricular contraction", 133),
            ("Bigeminy", "ventricular bigeminy", 55),
            ("Trigeminy", "ventricular trigeminy", 13),
            ("VT", "ventricular tachycardia", 10),
            ("IVR", "idioventricular rhythm", 10),
            ("VFL", "ventricular flutter", 10),
            ("Fusion", "fusion of ventricular and normal beat", 11),
            ("LBBBB", "left bundle branch block beat", 103),
            ("RBBBB", "right bundle branch block beat", 62),
            ("SDHB", "second-degree heart block", 10),
            ("PR", "pacemaker rhythm", 45),
        ],
        start=1,
    )
)

NUM_CLASSES = len(CLASSES)
CLASS_NAMES: tuple[str, ...] = tuple(c.name for c in CLASSES)
