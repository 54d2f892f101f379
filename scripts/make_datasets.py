"""Build the data files of :mod:`crmcore.datasets` from the original text files.

Run from the repository root, with the directory holding the originals::

    python scripts/make_datasets.py /path/to/originals

The originals are the CDNOW files Fader & Hardie distribute (``CDNOW_master.txt``,
``CDNOW_sample.txt``, ``cdnow_customers_summary_with_transactions.csv``) and the
BG/BB count table of Fader, Hardie & Shang (2010) (``donations.csv``). The
script writes compressed ``.npz`` files to ``src/crmcore/datasets/data/``; it is
not part of the package and never runs at import time. Its output is
byte-for-byte reproducible (fixed zip timestamps, fixed member order).

Every value is stored as an integer (days since 1997-01-01, amounts in cents,
recency and T in hundredths of a week as published), so nothing is lost to
rounding and the loaders rebuild the exact figures of the originals.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "src" / "crmcore" / "datasets" / "data"
EPOCH = np.datetime64("1997-01-01", "D")
CALIBRATION_END = np.datetime64("1997-09-30", "D")  # end of week 39
OBSERVATION_END = np.datetime64("1998-06-30", "D")  # end of week 78


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an ``.npz`` file numpy can load, deterministically."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=9)


def _check(condition: bool, what: str) -> None:
    """Stop with a message when an original file is not what the loaders expect."""
    if not condition:
        raise SystemExit(f"unexpected original data: {what}")


def _days(column: np.ndarray) -> np.ndarray:
    """YYYYMMDD strings to days since 1997-01-01."""
    iso = np.array([f"{s[:4]}-{s[4:6]}-{s[6:]}" for s in column], dtype="datetime64[D]")
    return (iso - EPOCH).astype(np.int64)


def _cents(column: np.ndarray) -> np.ndarray:
    """Decimal strings with at most two decimals to integer cents, exactly."""
    cents = np.array([round(float(s) * 100) for s in column], dtype=np.int64)
    if not np.array_equal(cents / 100, column.astype(float)):
        _check(False, "an amount has more than two decimals")
    return cents


def _log(rows: np.ndarray, id_col: int) -> dict[str, np.ndarray]:
    days = _days(rows[:, -3])
    return {
        "customer_id": rows[:, id_col].astype(np.uint16),
        "day": days.astype(np.uint16),
        "cents": _cents(rows[:, -1]).astype(np.uint32),
    }


def main(src: Path) -> None:
    """Read the originals under ``src`` and write the data files."""
    OUT.mkdir(parents=True, exist_ok=True)

    # Full log: customer id, date, number of CDs, dollar value (one header line).
    master = np.loadtxt(src / "CDNOW_master.txt", dtype=str, skiprows=1)
    master_log = _log(master, 0)
    _check(np.unique(master_log["customer_id"]).size == 23_570, "23,570 customers")
    _write_npz(OUT / "cdnow_master.npz", master_log)

    # Sample: master id, sample id, date, number of CDs, dollar value (no header).
    sample = np.loadtxt(src / "CDNOW_sample.txt", dtype=str)
    sample_log = _log(sample, 1)
    _check(np.unique(sample_log["customer_id"]).size == 2_357, "2,357 sample customers")
    # Every sample row is a row of the full log (same customer, day and amount).
    key = (
        master[:, 0].astype(np.int64) * 10**12
        + master_log["day"].astype(np.int64) * 10**8
        + master_log["cents"]
    )
    master_keys = set(key.tolist())
    sample_keys = (
        sample[:, 0].astype(np.int64) * 10**12
        + sample_log["day"].astype(np.int64) * 10**8
        + sample_log["cents"]
    )
    _check(all(k in master_keys for k in sample_keys.tolist()), "sample rows in the log")
    _write_npz(OUT / "cdnow_sample.npz", sample_log)

    # The published calibration summary (x, t_x, T in weeks to two decimals, and the
    # mean repeat spend zbar in dollars to the cent), with the holdout purchases of
    # weeks 40-78 counted here from the sample log: occasions are days, as in the
    # summary (several rows of one customer on one day are one purchase).
    pub = np.loadtxt(
        src / "cdnow_customers_summary_with_transactions.csv", dtype=str, delimiter=",", skiprows=1
    )
    ids = pub[:, 0].astype(np.int64)
    _check(np.array_equal(ids, np.arange(1, 2358)), "summary ids 1-2357")
    day = sample_log["day"].astype(np.int64)
    cid = sample_log["customer_id"].astype(np.int64)
    cents = sample_log["cents"].astype(np.int64)
    hold = day > (CALIBRATION_END - EPOCH).astype(np.int64)
    occasion = np.unique(cid[hold] * 1000 + day[hold])
    n_hold = np.bincount(occasion // 1000, minlength=2358)[1:]
    spend_hold = np.bincount(cid[hold], weights=cents[hold], minlength=2358)[1:]
    first_day = np.full(2358, 10**6)
    np.minimum.at(first_day, cid, day)
    is_first = day == first_day[cid]
    first_cents = np.bincount(cid[is_first], weights=cents[is_first], minlength=2358)[1:]
    _write_npz(
        OUT / "cdnow_sample_summary.npz",
        {
            "frequency": pub[:, 1].astype(np.uint16),
            "recency_centiweeks": _cents(pub[:, 2]).astype(np.uint16),
            "T_centiweeks": _cents(pub[:, 3]).astype(np.uint16),
            "monetary_value_cents": _cents(pub[:, 4]).astype(np.uint32),
            "first_spend_cents": first_cents.astype(np.uint32),
            "frequency_holdout": n_hold.astype(np.uint16),
            "spend_holdout_cents": spend_hold.astype(np.uint32),
        },
    )

    # Donations: x, t_x, n (= 6 for everyone) and the number of donors.
    don = np.loadtxt(src / "donations.csv", dtype=np.int64, delimiter=",", skiprows=1)
    _check(bool((don[:, 2] == 6).all()), "six opportunities")
    _check(int(don[:, 3].sum()) == 11_104, "11,104 donors")
    _write_npz(
        OUT / "donations.npz",
        {
            "frequency": don[:, 0].astype(np.uint8),
            "recency": don[:, 1].astype(np.uint8),
            "n_customers": don[:, 3].astype(np.uint16),
        },
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
