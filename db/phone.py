"""Phone numbers normalised to E.164 with phonenumbers."""
import phonenumbers


class PhoneNumberError(ValueError):
    pass


def to_e164(raw: str, region: str = "CN") -> str:
    """'138 0013 8000' -> '+8613800138000'; raises PhoneNumberError naming the input."""
    text = (raw or "").strip()
    if not text:
        raise PhoneNumberError("empty phone number")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneNumberError(f"{raw!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneNumberError(f"{raw!r} is not a valid number for region {region}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def try_e164(raw: str, region: str = "CN") -> str | None:
    """Caller IDs may be extensions or withheld: None rather than an error."""
    try:
        return to_e164(raw, region)
    except PhoneNumberError:
        return None
