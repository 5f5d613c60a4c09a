from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import health
from portal.activity import home_page
from portal.forms import TokenForm
from portal.models import PersonalToken
from portal.people import Person, signed_in
from portal.services.tokens import create_token, revoke_token
from portal.services.workers import live_workers
from portal.web import submit

NEW_KEY_SESSION = "handoff_new_token_key"


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    read = home_page(signed_in(request))
    context = {
        "teams": read.teams,
        "team_activity": read.team_activity,
        "recent_events": read.my_activity,
        "team_admins": read.team_admins,
        "assigned": read.assigned,
        "mentions": read.mentions,
        "workers": live_workers(),
    }
    return render(request, "portal/home.html", context)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. It checks nothing else on purpose."""
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database, and Redis and the broker when they are configured."""
    results = health.run_checks()
    failing = sorted(
        name for name, state in results.items() if state not in ("ok", "not configured")
    )
    body = {"status": "fail" if failing else "ok", "failing": failing, "checks": results}
    return JsonResponse(body, status=503 if failing else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    person = signed_in(request)
    form = TokenForm(request.POST or None, user=person)
    done = submit(
        request,
        form,
        lambda data: _create_and_keep_key(request, person, data),
        success=lambda token: f"Token “{token.name}” created. Copy its key now.",
    )
    if done.response is not None:
        return done.response  # post/redirect/get: a reload cannot create a second token
    context = {
        "form": form,
        # Shown once: the key leaves the session as it is shown.
        "new_key": request.session.pop(NEW_KEY_SESSION, None),
        "tokens": PersonalToken.objects.filter(user=person),
    }
    return render(request, "portal/tokens.html", context)


def _create_and_keep_key(
    request: HttpRequest, person: Person, data: dict[str, Any]
) -> PersonalToken:
    token, key = create_token(user=person, **data)
    request.session[NEW_KEY_SESSION] = key
    return token


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    # Someone else's token is a 404, not a 403: its existence is not ours to reveal.
    token = get_object_or_404(PersonalToken, pk=pk, user=request.user)
    revoke_token(token=token, actor=signed_in(request))
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("tokens")
