"""The shapes the API reads and writes; they also make the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from fullfolj.exchange.forms import KIND_CHOICES


# The writes take JSON as the schema states it: DRF's fields would also take "5" for 5 or 0 for
# false, and a program sending those has a bug it should hear about.
class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class SchoolSerializer(serializers.Serializer[object]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PupilSerializer(serializers.Serializer[object]):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    birth_date = serializers.DateField()
    protected_identity = serializers.BooleanField()
    school = SchoolSerializer(allow_null=True, help_text="Null when protected identity hides it.")
    school_class = serializers.CharField(allow_null=True)
    address = serializers.CharField(
        allow_null=True, help_text="Null for a protected identity, unless the owner may see it."
    )


class PupilPageSerializer(serializers.Serializer[object]):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = PupilSerializer(many=True)


class AbsenceSerializer(serializers.Serializer[object]):
    start = serializers.DateField()
    end = serializers.DateField()
    scheduled_minutes = serializers.IntegerField()
    absent_minutes = serializers.IntegerField()
    valid_minutes = serializers.IntegerField()
    invalid_minutes = serializers.IntegerField()
    unknown_minutes = serializers.IntegerField(help_text="Absence not yet known valid or invalid.")
    late_minutes = serializers.IntegerField()
    absent_percent = serializers.FloatField(allow_null=True)
    invalid_percent = serializers.FloatField(allow_null=True)


class AttendanceSummarySerializer(serializers.Serializer[object]):
    pupil = serializers.IntegerField()
    term = AbsenceSerializer()
    recent = AbsenceSerializer(help_text="The last four weeks.")
    period = AbsenceSerializer(allow_null=True, help_text="The period asked for, if any.")


class PeriodQuerySerializer(serializers.Serializer[object]):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)


class RunSerializer(serializers.Serializer[object]):
    id = serializers.IntegerField()
    as_of = serializers.DateField()
    finished_at = serializers.DateTimeField()


class FlagSerializer(serializers.Serializer[object]):
    rule = serializers.CharField()
    rule_name = serializers.CharField()
    explanation = serializers.CharField()


class PupilFlagsSerializer(serializers.Serializer[object]):
    pupil = serializers.IntegerField()
    run = RunSerializer(allow_null=True, help_text="Null before the first screening.")
    flags = FlagSerializer(many=True)


class RiskRowSerializer(serializers.Serializer[object]):
    pupil = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    rules = serializers.ListField(child=serializers.CharField())
    explanations = serializers.ListField(child=serializers.CharField())
    is_new = serializers.BooleanField()
    has_action = serializers.BooleanField()


class SchoolFlagsSerializer(serializers.Serializer[object]):
    school = SchoolSerializer()
    run = RunSerializer(allow_null=True)
    flagged = RiskRowSerializer(many=True)
    left = serializers.ListField(
        child=serializers.IntegerField(), help_text="Pupils flagged in the run before, not now."
    )


STATUS_HELP = (
    "unknown (not yet known), invalid, valid, or an absence reason code (see `reasons`); "
    "applies to an absence only."
)


class MarkSerializer(serializers.Serializer[object]):
    pupil = StrictIntegerField(min_value=1, max_value=2**31 - 1)
    absent_whole = StrictBooleanField(default=False)
    absent_minutes = StrictIntegerField(default=0, min_value=0, max_value=32767)
    late_minutes = StrictIntegerField(default=0, min_value=0, max_value=32767)
    status = StrictCharField(default="unknown", max_length=20, help_text=STATUS_HELP)


class MarkOutSerializer(serializers.Serializer[object]):
    pupil = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    absent_minutes = serializers.IntegerField()
    late_minutes = serializers.IntegerField()
    status = serializers.CharField(help_text=STATUS_HELP)


class ReasonSerializer(serializers.Serializer[object]):
    code = serializers.CharField()
    name = serializers.CharField()
    valid = serializers.BooleanField(help_text="Whether the reason makes an absence valid.")


class RegisterSerializer(serializers.Serializer[object]):
    lesson = serializers.IntegerField()
    group = serializers.CharField()
    subject = serializers.CharField()
    start = serializers.DateTimeField()
    minutes = serializers.IntegerField()
    version = serializers.IntegerField(help_text="Send it back with the marks.")
    registered_at = serializers.DateTimeField(allow_null=True)
    reasons = ReasonSerializer(many=True)
    marks = MarkOutSerializer(many=True)


class RegisterInSerializer(serializers.Serializer[object]):
    version = StrictIntegerField(
        min_value=0,
        max_value=2**31 - 1,
        help_text="The register's version as read; the save is refused (409) if someone "
        "changed a mark since.",
    )
    marks = MarkSerializer(many=True, help_text="Pupils left out keep their mark.")


class ChangeSerializer(serializers.Serializer[object]):
    pupil = serializers.IntegerField()
    changed_by = serializers.CharField(allow_null=True)
    changed_at = serializers.DateTimeField()


class ConflictSerializer(serializers.Serializer[object]):
    detail = serializers.CharField()
    version = serializers.IntegerField()
    changes = ChangeSerializer(many=True)


class ProblemsSerializer(serializers.Serializer[object]):
    detail = serializers.CharField()
    problems = serializers.ListField(child=serializers.CharField(), required=False)


class ImportInSerializer(serializers.Serializer[object]):
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    file = serializers.FileField()
    check_only = serializers.BooleanField(default=False)
    preset = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=100,
        help_text="A column map by name: built in (Skola24-liknande …) or saved on the page.",
    )


class ImportResultSerializer(serializers.Serializer[object]):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    changed = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class RowProblemSerializer(serializers.Serializer[object]):
    line = serializers.IntegerField()
    column = serializers.CharField()
    reason = serializers.CharField()
    text = serializers.CharField()


class ImportRejectedSerializer(serializers.Serializer[object]):
    detail = serializers.CharField()
    problems = RowProblemSerializer(many=True, required=False)


class ImportQueuedSerializer(serializers.Serializer[object]):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="queued: the worker has the file.")
    url = serializers.CharField(help_text="Where to read the import's progress and outcome.")


class ImportStatusSerializer(serializers.Serializer[object]):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    name = serializers.CharField(help_text="The file's name as sent.")
    check_only = serializers.BooleanField()
    status = serializers.ChoiceField(
        choices=["queued", "checking", "writing", "done", "checked", "refused"],
        help_text="done: imported; checked: checked and nothing imported; refused: nothing "
        "imported, see detail and problems.",
    )
    running = serializers.BooleanField(help_text="Ask again later while true.")
    percent = serializers.IntegerField(help_text="Checking the rows is the first half.")
    rows_done = serializers.IntegerField()
    rows_total = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    result = ImportResultSerializer(allow_null=True, help_text="The counts once done or checked.")
    detail = serializers.CharField(allow_blank=True, help_text="Why a refused file was refused.")
    problems = RowProblemSerializer(many=True, help_text="Every bad row of a refused file.")


class ErrorSerializer(serializers.Serializer[object]):
    detail = serializers.CharField()


class PersonSerializer(serializers.Serializer[object]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MeasureSerializer(serializers.Serializer[object]):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="adaptation, special_support … (the support app's)")
    title = serializers.CharField()
    start = serializers.DateField()
    follow_up_on = serializers.DateField(allow_null=True)
    status = serializers.CharField()
    decision = serializers.CharField(help_text="Empty until the principal has decided.")
    decided_on = serializers.DateField(allow_null=True)


class CaseSerializer(serializers.Serializer[object]):
    id = serializers.IntegerField()
    pupil = serializers.IntegerField()
    school = SchoolSerializer()
    status = serializers.CharField()
    opened_from = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    responsible = PersonSerializer(allow_null=True)
    measures = MeasureSerializer(many=True)


class PupilCasesSerializer(serializers.Serializer[object]):
    pupil = serializers.IntegerField()
    cases = CaseSerializer(many=True)
