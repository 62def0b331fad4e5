"""Pages for the monthly lists. Thin: parse input, call a selector, render."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def runs(request: HttpRequest) -> HttpResponse:
    return render(request, "screening/runs.html", {"nav": "runs"})
