"""Question-answer templates of seed 003 (Appendix A): the 15 multi-task pairs verbatim, one clinician-style
rewording of each question written offline (the seed's rewordings came from an LLM and are not published),
and the partly and fully out-of-scope questions with their refusals."""

from __future__ import annotations

TASKS = ("volume", "region", "shape", "spread")

MULTITASK: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    (("volume",), ("How large is the volume covered by {label}?", "What fraction of the brain does {label} occupy?"),
     "The overall volume of {label} is {volume}."),
    (("region",), ("Which region(s) of the brain is {label} located in?", "Where in the brain is {label} found?"),
     "The {label} is located in {regions}."),
    (("shape",), ("What is the shape of {label}?", "Could you describe the shape of {label}?"),
     "The shape of {label} is {shape}."),
    (("spread",), ("How spread out is {label}?", "Is {label} a single lesion or is it spread out?"),
     "The spread of {label} is {spread}."),
    (("volume", "region"), ("How large is the volume of {label} and where is it located?",
                            "Where is {label} located and how much of the brain does it take up?"),
     "The overall volume of {label} is {volume}, and it is located in {regions}."),
    (("volume", "shape"), ("How large is the volume of {label} and what is its shape?",
                           "Describe the size and the shape of {label}."),
     "The overall volume of {label} is {volume}, and its shape is described as {shape}."),
    (("volume", "spread"), ("How large is the volume of {label} and how spread out is it?",
                            "How big is {label} and how is it distributed?"),
     "The overall volume of {label} is {volume}, and it is characterized as {spread}."),
    (("region", "shape"), ("In which region is {label} and what is its shape?",
                           "Describe the location and the shape of {label}."),
     "The {label} is located in {regions}, and its shape is described as {shape}."),
    (("region", "spread"), ("In which region is {label} and how spread out is it?",
                            "Where is {label} and how is it distributed?"),
     "The {label} is located in {regions}, and it is characterized as {spread}."),
    (("shape", "spread"), ("What is the shape of {label} and how spread out is it?",
                           "Describe the shape and the distribution of {label}."),
     "The shape of {label} is described as {shape}, and it is characterized as {spread}."),
    (("volume", "region", "shape"), ("What is the volume, region, and shape of {label}?",
                                     "Report the size, location and shape of {label}."),
     "The overall volume of {label} is {volume}, it is located in {regions}, and its shape is described as "
     "{shape}."),
    (("volume", "region", "spread"), ("What is the volume, region, and spread of {label}?",
                                      "Report the size, location and distribution of {label}."),
     "The overall volume of {label} is {volume}, it is located in {regions}, and it is characterized as {spread}."),
    (("volume", "shape", "spread"), ("What is the volume, shape, and spread of {label}?",
                                     "Report the size, shape and distribution of {label}."),
     "The overall volume of {label} is {volume}, its shape is described as {shape}, and it is characterized as "
     "{spread}."),
    (("region", "shape", "spread"), ("What is the region, shape, and spread of {label}?",
                                     "Report the location, shape and distribution of {label}."),
     "The {label} is located in {regions}, its shape is described as {shape}, and it is characterized as {spread}."),
    (("volume", "region", "shape", "spread"), ("What is the volume, region, shape, and spread of {label}?",
                                               "Give a full description of {label}: size, location, shape and "
                                               "distribution."),
     "The overall volume of {label} is {volume}, it is located in {regions}, its shape is described as {shape}, "
     "and it is characterized as {spread}."),
)
"""(tasks, question wordings, answer template) for the 15 task combinations, in the seed's order."""

EXTRA_TASKS: tuple[tuple[str, str], ...] = (
    ("synthesize the findings into a comprehensive care plan",
     "Synthesizing this into a care plan is outside my domain."),
    ("recommend a chemotherapy regimen", "Recommending a chemotherapy regimen is outside my domain."),
    ("estimate the patient's survival", "Estimating survival is beyond what I can assess."),
    ("grade the tumor histologically", "Histological grading is beyond what I can assess."),
    ("tell me whether surgery is indicated", "I cannot advise on surgical indication."),
    ("predict the IDH mutation status", "Predicting the mutation status is outside my domain."),
    ("suggest the radiotherapy dose", "I cannot suggest a radiotherapy dose."),
    ("compare it with the previous scan", "I cannot compare with earlier scans."),
    ("assess the risk of seizures", "Assessing seizure risk is beyond what I can assess."),
    ("draft the discharge letter", "I cannot draft clinical letters."),
    ("list the differential diagnoses", "Listing differential diagnoses is outside my domain."),
    ("explain the patient's symptoms", "I cannot explain the patient's symptoms."),
)
"""Partly out-of-scope: a task the model cannot solve, added to a multi-task question, and its refusal."""

OUT_OF_SCOPE: tuple[tuple[str, str], ...] = (
    ("How do genetic factors influence the development of {label} in adolescents?",
     "I cannot provide information regarding the influence of genetic factors on {label}."),
    ("What treatment would you recommend for {label}?", "I cannot recommend treatments for {label}."),
    ("What is the prognosis of a patient with this {label}?", "I cannot provide a prognosis based on {label}."),
    ("Which chemotherapy drug works best against {label}?", "I cannot advise on drugs for {label}."),
    ("Is the {label} caused by smoking?", "I cannot provide information about the causes of {label}."),
    ("How long will the patient survive with {label}?", "I cannot estimate survival from {label}."),
    ("What is the molecular subtype of {label}?", "I cannot determine the molecular subtype of {label}."),
    ("Should the {label} be removed surgically?", "I cannot advise on surgery for {label}."),
    ("What dose of radiation should be given to {label}?", "I cannot suggest a radiation dose for {label}."),
    ("Will the {label} come back after treatment?", "I cannot predict recurrence of {label}."),
    ("What symptoms does {label} cause in children?", "I cannot provide information about symptoms of {label}."),
    ("How much does treating {label} cost?", "I cannot provide information about the cost of treating {label}."),
    ("Which hospital is best for treating {label}?", "I cannot recommend hospitals for {label}."),
    ("Is {label} hereditary in this family?", "I cannot provide information about heredity of {label}."),
    ("What diet helps to shrink {label}?", "I cannot provide dietary advice about {label}."),
    ("Write a report to the referring physician about {label}.", "I cannot write clinical reports about {label}."),
)
"""Fully out-of-scope questions and their refusals (Appendix A, third prompt; Table 5, last row)."""
