"""The portal's URLs plus the calibration view of the benchmarks (bench.settings only)."""

from django.http import JsonResponse
from django.urls import path

from applications.models import Call
from ptce_portal.urls import urlpatterns as portal_urlpatterns


def calibration(request):
    """The cheapest real page: full middleware stack (the session and its user are loaded when a
    session cookie is sent, as for every step measured) and one query on a unique index."""
    call = Call.objects.filter(slug=request.GET.get("call", "")).values_list("pk", flat=True).first()
    return JsonResponse({"call": call, "user": request.user.pk})


urlpatterns = [path("bench/calibration/", calibration, name="bench-calibration"), *portal_urlpatterns]
