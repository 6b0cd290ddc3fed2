"""Export benchmark: XLSX (written to a temporary file, as the view sends it) and streamed CSV of 2,000 and 10,000 synthetic rows (no database read).

python -m bench.export_bench
"""

from __future__ import annotations

import gc
import tempfile
import time
import tracemalloc
from collections.abc import Callable

SIZES = (2_000, 10_000)
YEARS = (2014, 2015, 2016)


def synthetic_rows(count: int) -> list:
    from awards.exports import ExportRow

    return [
        ExportRow(
            reference=f"PTCE-2013-{index:05d}",
            pole=f"Pôle coopératif « Fabrique des communs » n°{index}",
            lead_structure=f"Association Halage {index}",
            siret=f"{39187426500000 + index:014d}",
            commune="L'Île-Saint-Denis",
            departement="93",
            region="Île-de-France",
            territory_priority="Quartier prioritaire (quartier populaire)",
            maturity="Mature",
            sectors=("Insertion par l'activité économique", "Consommation durable"),
            mean_score=60 + index % 40 + 0.5,
            calibrated_score=None if index % 7 else 61.25,
            decision="Lauréat" if index % 5 == 0 else "Non retenu",
            amounts=(75_000 + index % 1000, 50_000, 45_000),
        )
        for index in range(count)
    ]


def measure(function: Callable[[], object]) -> tuple[float, float]:
    """Wall time and tracemalloc peak (MiB) of one call; the rows already exist before it starts."""
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    function()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    tracemalloc.stop()
    return seconds, peak


def main() -> None:
    from .common import print_environment, scratch_database

    with scratch_database("export"):
        from awards.exports import stream_csv, write_xlsx

        def xlsx_file(rows):
            # As the export view does: written to a temporary file, sent from it.
            with tempfile.TemporaryFile() as out:
                write_xlsx(rows, YEARS, out)
                return out.tell()

        print_environment()
        results = {}
        for count in SIZES:
            rows = synthetic_rows(count)
            xlsx_file(rows[:50])  # warm imports and caches outside the measure
            xlsx = measure(lambda rows=rows: xlsx_file(rows))
            # Consumed as a StreamingHttpResponse does: chunk by chunk, nothing kept.
            csv = measure(lambda rows=rows: sum(len(chunk) for chunk in stream_csv(iter(rows), YEARS)))
            results[count] = {"xlsx": xlsx, "csv": csv}
        small, large = SIZES
        factor = large / small
        print(f"XLSX and streamed CSV of {small:,} and {large:,} ExportRow (3 funding years), tracemalloc on")
        print("(time under tracemalloc: compare ratios, not absolutes)")
        for kind in ("xlsx", "csv"):
            (small_time, small_peak), (large_time, large_peak) = results[small][kind], results[large][kind]
            print(
                f"  {kind.upper():<4} {small:>6,} rows: peak {small_peak:7.2f} MiB   "
                f"{large:>6,} rows: peak {large_peak:7.2f} MiB"
            )
            print(
                f"       {large:,}/{small:,} ({factor:.0f}x rows): time {large_time / small_time:.2f}x, "
                f"peak memory {large_peak / small_peak:.2f}x"
            )
        csv_growth = results[large]["csv"][1] / results[small]["csv"][1]
        xlsx_growth = results[large]["xlsx"][1] / results[small]["xlsx"][1]
        xlsx_time = results[large]["xlsx"][0] / results[small]["xlsx"][0]
        print()
        print(f"CSV peak memory flat from {small:,} to {large:,} rows: {'yes' if csv_growth < 1.2 else 'NO'}")
        print(f"XLSX peak memory flat from {small:,} to {large:,} rows: {'yes' if xlsx_growth < 1.2 else 'NO'}")
        print(
            f"XLSX per {large:,} rows vs CSV per {large:,} rows (time): "
            f"{results[large]['xlsx'][0] / results[large]['csv'][0]:.1f}x; XLSX time grows {xlsx_time:.2f}x"
        )


if __name__ == "__main__":
    main()
