import time

import factory
from allauth.account.models import EmailAddress

from accounts.models import User
from accounts.roles import add_role

PASSWORD = "mot-de-passe-solide-42"


class UserFactory(factory.django.DjangoModelFactory):
    """A verified user with a known password; `role=` adds a role group."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@exemple.fr")
    first_name = "Claude"
    last_name = factory.Sequence(lambda n: f"Martin{n}")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            add_role(self, extracted)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=self, email=self.email, primary=True, verified=extracted is not False)


def totp_code(user, *, step: int = 0) -> str:
    """The code the user's authenticator app shows now (`step` periods later: a new code, since
    allauth refuses a code used twice)."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import decrypt

    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    return code_for_secret(decrypt(authenticator.data["secret"]), step=step)


def code_for_secret(secret: str, *, step: int = 0) -> str:
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD + step))
