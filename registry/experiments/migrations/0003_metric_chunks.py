import django.db.models.deletion
import numpy as np
from django.db import migrations, models

from registry.experiments.sketch import EMPTY, fold

CHUNK = 10_000  # points a chunk row holds: a logged batch at most


def pack_logged_points(apps, schema_editor):
    """Each series logged as rows becomes chunks of packed arrays, and gets its sketch."""
    MetricSummary = apps.get_model("experiments", "MetricSummary")
    MetricPoint = apps.get_model("experiments", "MetricPoint")
    MetricChunk = apps.get_model("experiments", "MetricChunk")
    for summary in MetricSummary.objects.iterator():
        sketch = EMPTY
        rows = (
            MetricPoint.objects.filter(run_id=summary.run_id, key=summary.key)
            .order_by("step", "timestamp", "pk")
            .values_list("step", "value", "timestamp")
        )
        batch: list[tuple] = []
        for row in rows.iterator(chunk_size=CHUNK):
            batch.append(row)
            if len(batch) == CHUNK:
                sketch = _pack(MetricChunk, summary, batch, sketch)
                batch = []
        if batch:
            sketch = _pack(MetricChunk, summary, batch, sketch)
        summary.sketch = sketch.as_json()
        summary.save(update_fields=["sketch"])


def _pack(MetricChunk, summary, batch, sketch):
    steps = np.array([row[0] for row in batch], dtype="<i8")
    values = np.array([row[1] for row in batch], dtype="<f8")
    stamps = np.array([int(row[2].timestamp() * 1000) for row in batch], dtype="<i8")
    MetricChunk.objects.create(
        run_id=summary.run_id,
        key=summary.key,
        first_step=int(steps.min()),
        last_step=int(steps.max()),
        count=len(batch),
        steps=steps.tobytes(),
        values=values.tobytes(),
        timestamps=stamps.tobytes(),
    )
    return fold(sketch, steps, values, stamps)


class Migration(migrations.Migration):

    dependencies = [
        ('experiments', '0002_promotion'),
    ]

    operations = [
        migrations.AddField(
            model_name='metricsummary',
            name='sketch',
            field=models.JSONField(default=dict),
        ),
        migrations.CreateModel(
            name='MetricChunk',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=250)),
                ('first_step', models.BigIntegerField()),
                ('last_step', models.BigIntegerField()),
                ('count', models.IntegerField()),
                ('steps', models.BinaryField()),
                ('values', models.BinaryField()),
                ('timestamps', models.BinaryField()),
                ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='experiments.run')),
            ],
        ),
        migrations.RunPython(pack_logged_points, migrations.RunPython.noop),
        migrations.DeleteModel(
            name='MetricPoint',
        ),
        migrations.AddIndex(
            model_name='metricchunk',
            index=models.Index(fields=['run', 'key', 'first_step'], name='metric_chunks'),
        ),
    ]
