from typing import Any

from registry.evaluation import datafiles


def test_the_fixture_versions_have_valid_artifacts_and_files_read_in_batches(
    classifier: Any, regressor: Any, data_file: Any
) -> None:
    assert classifier.artifact.status == "valid"
    assert regressor.artifact.status == "valid"
    for suffix in (".csv", ".parquet"):
        path = data_file(rows=25_000, suffix=suffix)
        head = path.read_bytes()[:8]
        kind = datafiles.sniff_format(head)
        assert kind == suffix[1:]
        sizes = [b.num_rows for b in datafiles.batches(path, kind, batch_rows=10_000)]
        assert sum(sizes) == 25_000 and max(sizes) <= 10_000
        assert "churned" in datafiles.schema_of(path, kind).names


def test_a_dataset_row_points_at_its_stored_file(make_dataset: Any, data_file: Any) -> None:
    dataset = make_dataset(data_file(rows=100, suffix=".parquet"))

    assert dataset.file_format == "parquet"
    assert dataset.file.name == f"datasets/{dataset.team_id}/{dataset.sha256}.parquet"
    assert datafiles.row_count_hint(dataset.file.path, "parquet") == 100
