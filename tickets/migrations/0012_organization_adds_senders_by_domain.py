# Domain-based membership of new e-mail senders becomes each organisation's
# explicit choice (off by default, so no organisation gains members by it
# until an admin turns it on).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0011_classifier_baseline"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="adds_senders_by_domain",
            field=models.BooleanField(
                default=False,
                help_text="A new e-mail sender whose address is at this domain becomes a "
                "customer of this organisation. Off: they are a customer without an "
                "organisation until someone adds them.",
                verbose_name="add unknown senders by their domain",
            ),
        ),
    ]
