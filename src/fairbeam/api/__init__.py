"""The FastAPI application that mounts each feature's routes."""
