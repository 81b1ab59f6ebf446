"""`python -m server [flags]`: run the gRPC server in the foreground (see server.settings)."""

import logging

from server.app import serve
from server.settings import Settings

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    serve(Settings.from_args())
