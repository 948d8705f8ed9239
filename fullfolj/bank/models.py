"""The resource bank (resursbank): a shared library of adaptations and methods, each with when
to use it and how to follow it up, and the measures that used it (docs/bank.md)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fullfolj.schools.models import ValidatedModel
from fullfolj.support.models import Measure


class Tag(models.Model):
    """A word an entry is found by (structure, picture support, NPF, ...)."""

    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=60)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class EntryQuerySet(models.QuerySet["Entry"]):
    def in_use(self) -> EntryQuerySet:
        """Entries picked into at least one measure."""
        return self.filter(uses__isnull=False).distinct()

    def listed(self) -> EntryQuerySet:
        """Entries offered for picking: archived ones stay readable but are not offered."""
        return self.filter(is_archived=False)


class Entry(ValidatedModel):
    """One adaptation or method in the bank: what it is, when to use it, how to do it and how
    to follow it up."""

    slug = models.SlugField(unique=True)
    title = models.CharField(_("title"), max_length=120)
    summary = models.TextField(_("what it is"))
    when_to_use = models.TextField(_("when to use it"))
    how_to = models.TextField(_("how to do it"))
    follow_up = models.TextField(_("how to follow it up"))
    tags = models.ManyToManyField(Tag, blank=True, related_name="entries", verbose_name=_("tags"))
    is_archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        verbose_name = _("bank entry")
        verbose_name_plural = _("bank entries")

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if not self.title.strip():
            raise ValidationError({"title": _("Give the entry a title.")})

    def adaptation_text(self) -> str:
        """What a picked entry writes into the measure's description."""
        how, follow = gettext("how to do it"), gettext("how to follow it up")
        return f"{self.summary}\n\n{capfirst(how)}: {self.how_to}\n\n{capfirst(follow)}: {self.follow_up}"


class Use(models.Model):
    """A measure started from a bank entry. The entry is protected: an entry in use is archived,
    never deleted, so the measure keeps where it came from."""

    measure = models.OneToOneField(Measure, on_delete=models.CASCADE, related_name="bank_use")
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="uses")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("bank entry in use")
        verbose_name_plural = _("bank entries in use")
        indexes = [models.Index(fields=["entry"])]

    def __str__(self) -> str:
        return f"{self.entry} → {self.measure_id}"
