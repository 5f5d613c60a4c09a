"""Evaluation jobs: dataset profiling and evaluations. Each loads its row through a service;
the row, not Celery, holds the result. Beat's portal.tasks.requeue_stale_jobs_task sends a
job again when its worker dies mid-way.

The services are imported inside the tasks: a web process imports this module to send a
task, and should not load scikit-learn, onnxruntime and pyarrow's compute kernels for it.
"""

from contextlib import suppress

from celery import shared_task
from django.db import OperationalError

from registry.evaluation.models import Dataset, Evaluation


@shared_task(
    name="registry.evaluation.tasks.run_evaluation_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def run_evaluation_task(evaluation_id: int) -> None:
    """Evaluate a version on a dataset; retried only when the database is briefly unavailable."""
    from registry.evaluation.services.evaluations import run_evaluation

    # A version deleted after the evaluation was queued leaves nothing to evaluate.
    with suppress(Evaluation.DoesNotExist):
        run_evaluation(evaluation_id=evaluation_id)


@shared_task(
    name="registry.evaluation.tasks.profile_dataset_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def profile_dataset_task(dataset_id: int) -> None:
    """Profile an uploaded dataset; retried only when the database is briefly unavailable."""
    from registry.evaluation.services.datasets import profile_dataset

    with suppress(Dataset.DoesNotExist):
        profile_dataset(dataset_id=dataset_id)
