"""Settings for Django's own test suite (its tests/runtests.py) against PostgreSQL on
127.0.0.1:$DJANGO_SUITE_PORT: Django's tests/test_sqlite.py with the postgresql backend.
The test runner creates test_django_suite (and test_django_suite_other for the multi-db
tests) through database postgres, and drops them at the end."""
import os


def database(name):
    return {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "127.0.0.1",
        "PORT": os.environ["DJANGO_SUITE_PORT"],
        "USER": "postgres",
        "NAME": name,
    }


DATABASES = {"default": database("django_suite"), "other": database("django_suite_other")}

SECRET_KEY = "django_tests_secret_key"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

USE_TZ = False
