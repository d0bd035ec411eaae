"""The people the tests act as: staff accounts with a second factor, logged in."""

import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from privacy.models import ConfidentialityCommitment

PASSWORD = "a-long-test-password-42"


def make_staff(username: str, *, group: str, commitment: bool = True, superuser: bool = False):
    User = get_user_model()
    user = User.objects.create_user(
        username=username, password=PASSWORD, is_staff=True, is_superuser=superuser
    )
    user.groups.add(Group.objects.get(name=group))
    if commitment:
        ConfidentialityCommitment.objects.create(user=user, signed_on=datetime.date(2026, 1, 2))
    TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return user


def verified_client(client, user):
    """A client logged in with password and a verified second factor."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = user.totpdevice_set.get().persistent_id
    session.save()
    return client


def totp_code(user) -> str:
    """The code the staff member's authenticator app shows now."""
    from django_otp.oath import TOTP

    device = user.totpdevice_set.get()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"
