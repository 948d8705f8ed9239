"""Version 1 of each stage's questionnaire, from fullfolj/kasam/questions.py."""

from django.db import migrations


def load(apps, schema_editor):
    from fullfolj.kasam.questions import QUESTIONS

    Questionnaire = apps.get_model("kasam", "Questionnaire")
    Question = apps.get_model("kasam", "Question")
    for stage, questions in QUESTIONS.items():
        if Questionnaire.objects.filter(stage=stage).exists():
            continue
        questionnaire = Questionnaire.objects.create(stage=stage, version=1, is_current=True)
        Question.objects.bulk_create(
            Question(questionnaire=questionnaire, dimension=d, text=t, position=i)
            for i, (d, t) in enumerate(questions)
        )


class Migration(migrations.Migration):
    dependencies = [("kasam", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
