from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter

from .roles import Role, add_role
from .second_factor import password_just_checked, requires_second_factor


class AccountAdapter(DefaultAccountAdapter):
    """Every account created by sign-up is an applicant; other roles are given by staff."""

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            add_role(user, Role.APPLICANT)
        return user

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        required = super().is_reauthentication_required(app=app, **kwargs)
        if required and app == "allauth.mfa" and context.request is not None:
            return not password_just_checked(context.request)
        return required


class MFAAdapter(DefaultMFAAdapter):
    """Staff and reviewers cannot switch their authenticator app off themselves; one who lost their
    phone uses a recovery code, or a superuser deletes the authenticator in the admin and they
    enrol again at their next log-in."""

    def can_delete_authenticator(self, authenticator) -> bool:
        return not requires_second_factor(authenticator.user)
