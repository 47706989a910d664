"""Training, few-shot adaptation, router selection and inference for MoME-RO (seed 000, iii-v)."""
