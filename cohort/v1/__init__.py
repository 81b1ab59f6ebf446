"""Generated gRPC code for cohort.v1 (python -m server.codegen); do not edit."""
