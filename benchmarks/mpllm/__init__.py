"""mpLLM benchmark (seed 003): synthetic VQA protocol checks, methods compared, closed-center router."""
