"""SIRET numbers: 14 digits whose Luhn checksum holds (La Poste's establishments excepted)."""

from django.core.exceptions import ValidationError

# La Poste's establishments share the SIREN 356 000 000 and follow another rule: digit sum % 5.
LA_POSTE_SIREN = "356000000"


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def normalise_siret(value: str) -> str:
    return "".join(value.split()).replace(".", "").replace("-", "")


def validate_siret(value: str) -> None:
    siret = normalise_siret(value or "")
    if not siret.isdigit() or len(siret) != 14:
        raise ValidationError("Le SIRET doit comporter exactement 14 chiffres.", code="siret_length")
    if siret.startswith(LA_POSTE_SIREN) and siret != "35600000000048":
        if sum(int(d) for d in siret) % 5 != 0:
            raise ValidationError("Ce SIRET n'est pas valide : vérifiez les chiffres saisis.", code="siret_checksum")
        return
    if not luhn_ok(siret):
        raise ValidationError("Ce SIRET n'est pas valide : vérifiez les chiffres saisis.", code="siret_checksum")
