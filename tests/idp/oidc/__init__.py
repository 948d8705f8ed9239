"""An OpenID Connect provider (django-oidc-provider) for the sign-on tests.

A separate Django project with its own settings and SQLite database, started by the tests in a
subprocess: `python -m tests.idp.oidc seed|runserver ...`. It stands in for
a municipality's identity provider: people with an e-mail address and an employee number, a
login page, a consent page, signed ID tokens, and `amr` saying a second factor was used for the
people in the "second-factor" group.
"""
