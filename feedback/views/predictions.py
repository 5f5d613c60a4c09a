"""A logged prediction: what went in, what came out, what people said about it, and a form
where anyone signed in says what they think."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from feedback.forms import GiveFeedbackForm
from feedback.models import FeedbackSource, PredictionLog
from feedback.queries import PredictionPage, prediction_page, prediction_url
from feedback.services.access import Caller
from feedback.services.feedback import give_feedback
from portal.people import Person, signed_in
from portal.web import HtmxHttpRequest
from registry.models import RegisteredModel


def _read(name: str, prediction_id: str) -> PredictionPage:
    try:
        return prediction_page(name, prediction_id)
    except (RegisteredModel.DoesNotExist, PredictionLog.DoesNotExist):
        raise Http404("No such prediction.") from None


@require_http_methods(["GET", "POST"])
def prediction(request: HtmxHttpRequest, name: str, prediction_id: str) -> HttpResponse:
    person = signed_in(request)
    read = _read(name, prediction_id)
    form = GiveFeedbackForm(request.POST or None, output=read.log.output if read.log else None)
    if request.method == "POST" and form.is_valid() and _give(request, person, read, form):
        url = prediction_url(read.model.name, read.prediction_id)
        return HttpResponseRedirect(f"{url}#feedback", status=303)
    context = {
        "page": read,
        "model": read.model,
        "form": form,
    }
    return render(request, "feedback/prediction.html", context)


def _give(
    request: HtmxHttpRequest, person: Person, read: PredictionPage, form: GiveFeedbackForm
) -> bool:
    """Store the form's feedback through the service; False with its reasons on the form."""
    records = form.records(read.model, read.prediction_id)
    outcome = give_feedback(
        caller=Caller(person=person),
        records=[record for _, record in records],
        now=timezone.now(),
        source=FeedbackSource.PORTAL,
    )
    for index, reason in outcome.rejected:
        field = "comment" if reason.startswith("comment:") else records[index][0]
        form.add_error(field if field in form.fields else None, reason.partition(": ")[2] or reason)
    if outcome.rejected:
        return False
    if outcome.accepted:
        messages.success(request, "Thank you: your feedback is stored.")
    else:
        messages.info(request, "That feedback was stored already.")
    return True
