"""Hotline: a FreeSWITCH-centric call-center appliance.

Data directories (freeswitch/, dialplan/, ivr_flows/) are installed under
<prefix>/share/hotline/ so an installed copy finds them the same way a
checkout does (see esl_apps/paths.py).
"""
import os

from setuptools import find_packages, setup

DATA_DIRS = ("freeswitch", "dialplan", "ivr_flows")


def data_files():
    here = os.path.dirname(os.path.abspath(__file__))
    out = []
    for top in DATA_DIRS:
        for root, _dirs, files in os.walk(os.path.join(here, top)):
            rel = os.path.relpath(root, here)
            if files:
                out.append((os.path.join("share", "hotline", rel),
                            [os.path.join(rel, f) for f in sorted(files)]))
    return out


setup(
    name="hotline",
    version="0.1.0",
    description="Call-center appliance for utility and public-service hotlines",
    python_requires=">=3.11",
    packages=find_packages(include=["esl_apps", "esl_apps.*", "webui", "webui.*",
                                    "db", "db.*"]),
    package_data={"webui": ["templates/*.html", "templates/*/*.html", "static/*",
                            "static/vendor/*", "translations/*/LC_MESSAGES/*.mo",
                            "translations/*/LC_MESSAGES/*.po"],
                  "esl_apps.notify": ["templates/*.txt"]},
    data_files=data_files(),
    install_requires=[
        # the owner's design card
        "greenswitch==0.0.19",
        "gevent==26.9.0",
        "flask==3.1.3",
        "peewee==4.5.3",
        "jinja2==3.1.6",
        "pydub==0.25.1",
        "apscheduler==3.11.3",
        # beside the card: CLI, phone numbers, config/flow validation, Postgres
        "click==8.5.1",
        "phonenumbers==9.0.43",
        "pydantic==2.14.3",
        "PyYAML==6.0.3",
        "psycopg2-binary==2.9.13",
        # the web panel: sign-in and roles, CSRF on every form, zh_CN/en pages
        "Flask-Login==0.6.3",
        "Flask-WTF==1.3.0",
        "WTForms==3.3.2",
        "flask-babel==4.0.0",
        "Babel==2.18.0",
        # CRM: customer import from XLSX (and the downloadable XLSX template)
        "openpyxl==3.1.5",
    ],
    extras_require={
        # playwright drives Debian's chromium (never a downloaded browser)
        "test": ["pytest==9.2.0", "pytest-timeout==2.4.0", "setuptools", "wheel",
                 "playwright==1.65.2",
                 # a real local SMTP server for the notification tests (aio-libs)
                 "aiosmtpd==1.4.6"],
    },
    entry_points={"console_scripts": ["hotline = esl_apps.cli:main"]},
)
