"""Where imported data comes from: a school system's SS 12000 API (a source), each run of an
import, and which of our rows stands for which of the source's objects."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from fullfolj.schools.models import Organiser


class Source(models.Model):
    """A school system that Fullfölj reads every night over SS 12000."""

    class Auth(models.TextChoices):
        BEARER = "bearer", _("static bearer token")
        OAUTH2 = "oauth2", _("OAuth2 client credentials")
        CERTIFICATE = "certificate", _("client certificate")

    name = models.CharField(_("name"), max_length=100)
    organiser = models.ForeignKey(
        Organiser,
        on_delete=models.CASCADE,
        related_name="sources",
        null=True,
        blank=True,
        help_text=_("Empty: the organiser is taken from the organisations the source serves."),
    )
    base_url = models.CharField(
        _("base URL"), max_length=300, unique=True, validators=[URLValidator(["http", "https"])]
    )
    auth = models.CharField(_("authentication"), max_length=20, choices=Auth.choices)
    token = models.CharField(_("bearer token"), max_length=2000, blank=True)
    token_url = models.CharField(
        _("token URL"), max_length=300, blank=True, validators=[URLValidator(["http", "https"])]
    )
    client_id = models.CharField(_("client id"), max_length=200, blank=True)
    client_secret = models.CharField(_("client secret"), max_length=500, blank=True)
    scope = models.CharField(_("scope"), max_length=200, blank=True)
    cert_file = models.CharField(_("client certificate file"), max_length=300, blank=True)
    key_file = models.CharField(_("client key file"), max_length=300, blank=True)
    ca_file = models.CharField(
        _("CA certificates file"),
        max_length=300,
        blank=True,
        help_text=_("Empty: the server's certificate is checked against the system's CAs."),
    )
    enabled = models.BooleanField(_("import every night"), default=False)
    run_at = models.TimeField(_("run at"), null=True, blank=True)
    # The high-water marks of the last good run: the latest change the source reported (its
    # own clock) and when the deletions were last asked for.
    modified_since = models.DateTimeField(_("changes read up to"), null=True, blank=True)
    deleted_since = models.DateTimeField(_("deletions read up to"), null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.auth == self.Auth.OAUTH2 and not (
            self.token_url and self.client_id and self.client_secret
        ):
            raise ValidationError(
                {"token_url": _("OAuth2 needs a token URL, a client id and a client secret.")}
            )
        if self.auth == self.Auth.CERTIFICATE and not self.cert_file:
            raise ValidationError(
                {"cert_file": _("Give the client certificate file (PEM) for this source.")}
            )
        if self.enabled and self.run_at is None:
            raise ValidationError({"run_at": _("Give the time of the nightly import.")})


class ImportRun(models.Model):
    """One import from a source: what it did, or why it stopped."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        DRY_RUN = "dry_run", _("dry run")
        FAILED = "failed", _("failed")

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="runs")
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    since = models.DateTimeField(_("changes since"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M}"


class Link(models.Model):
    """One of the source's objects and the row of ours it became (or the derived row's key)."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(max_length=20)  # pupil, staff, school, lesson, mark …
    external_id = models.CharField(max_length=200)  # the source's UUID, or a composite key
    local_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "external_id"], name="one_link_per_object"
            )
        ]
        indexes = [models.Index(fields=["source", "kind", "local_id"])]


class ImportPreset(models.Model):
    """A saved column map for one kind of file (kolumnmappning): which header of a school
    system's export holds which of our columns."""

    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    columns = models.JSONField(_("columns"), default=dict)  # our column's key: the file's header

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organiser", "kind", "name"], name="one_preset_name")
        ]

    def __str__(self) -> str:
        return self.name


class FileImport(models.Model):
    """An uploaded file on its way in: previewed, queued, read, written, or refused."""

    class Status(models.TextChoices):
        PREVIEW = "preview", _("preview")
        QUEUED = "queued", _("queued")
        CHECKING = "checking", _("checking the rows")
        WRITING = "writing", _("writing")
        DONE = "done", _("imported")
        CHECKED = "checked", _("checked")
        REFUSED = "refused", _("refused")

    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="+")
    uploaded_by = models.ForeignKey(
        "schools.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=20)
    name = models.CharField(_("file name"), max_length=200)
    data = models.BinaryField()
    columns = models.JSONField(_("columns"), default=dict, blank=True)
    check_only = models.BooleanField(default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    # counts (rows, created, changed, unchanged), or problems [[line, column, reason]], or error
    outcome = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_running(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.CHECKING, self.Status.WRITING}

    @property
    def percent(self) -> int:
        """How far the import has come: checking the rows is the first half."""
        if self.status == self.Status.WRITING:
            return 50
        if self.status == self.Status.CHECKING and self.rows_total:
            return min(49, 50 * self.rows_done // self.rows_total)
        return 100 if not self.is_running else 0
