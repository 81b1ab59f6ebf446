"""Crash-test writer: ingests submissions in a loop until it is killed.

Usage: python ingest_writer.py STORE_PATH FIRST_INDEX. Prints `request_id sha256` for each
submission only after `Store.submit` returned (the acknowledgement a client would get).
Submission i is always the same payload, so a restart from an unacknowledged index is a
client retry: answered from the ledger when the killed run had already committed it.
"""

from __future__ import annotations

import sys

import pandas as pd

from cohort.store import Store

PATIENTS_PER_SUBMISSION = 20
MAX_SUBMISSIONS = 5_000  # a bound in case nobody kills us


def payload(index: int) -> dict[str, pd.DataFrame]:
    arm_id = f"CRASH_{index:05d}"
    arms = pd.DataFrame([{"arm_id": arm_id, "trial": f"crash trial {index}", "product": "p",
                          "target": "CD19", "cell_type": "CAR-T", "disease": "LBCL",
                          "n_treated": str(PATIENTS_PER_SUBMISSION)}])
    patients = pd.DataFrame([{"patient_id": f"{arm_id}_{k:02d}", "arm_id": arm_id,
                              "age_years": str(40 + (index + k) % 40), "crs_grade": str(k % 5)}
                             for k in range(PATIENTS_PER_SUBMISSION)])
    return {"arms": arms, "patients": patients}


def main(path: str, first: int) -> None:
    with Store.open(path) as store:
        for index in range(first, first + MAX_SUBMISSIONS):
            request_id = f"crash-{index:05d}"
            receipt = store.submit(request_id, payload(index))
            print(request_id, receipt.sha256, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
