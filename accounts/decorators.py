from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def program_staff_required(view):
    """Staff pages outside the admin: logged-in program staff only, 403 for anyone else."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        # Admin access (is_staff) is what brings the second factor (accounts.middleware).
        if not (request.user.is_program_staff and request.user.is_staff):
            raise PermissionDenied("Page réservée à l'équipe du programme.")
        return view(request, *args, **kwargs)

    return wrapper
