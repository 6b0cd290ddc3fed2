from allauth.account.adapter import DefaultAccountAdapter

from .roles import Role, add_role


class AccountAdapter(DefaultAccountAdapter):
    """Every account created by sign-up is an applicant; other roles are given by staff."""

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            add_role(user, Role.APPLICANT)
        return user
