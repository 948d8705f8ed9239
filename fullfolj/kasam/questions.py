"""Our own KASAM questions in plain Swedish, one set for years 4–6 and one for 7–9, written for
Fullfölj (no copyrighted scale is copied). The data migration loads them as version 1."""

from __future__ import annotations

C, H, M = "comprehensibility", "manageability", "meaningfulness"

QUESTIONS: dict[str, list[tuple[str, str]]] = {
    "4-6": [
        (C, "Jag vet vad vi ska göra på lektionerna."),
        (C, "Jag förstår varför saker händer som de gör i skolan."),
        (C, "Jag vet vem jag ska fråga när jag inte förstår."),
        (H, "Jag får hjälp när något är svårt."),
        (H, "Jag klarar av skoldagen."),
        (H, "Det finns en vuxen i skolan jag kan prata med."),
        (M, "Det jag lär mig i skolan är bra att kunna."),
        (M, "Jag ser fram emot något i skolan."),
        (M, "Jag tycker att det jag gör i skolan spelar roll."),
    ],
    "7-9": [
        (C, "Jag vet vad som förväntas av mig på lektionerna."),
        (C, "Jag förstår hur mina betyg sätts."),
        (C, "När något ändras i skolan förstår jag varför."),
        (H, "Jag har det stöd jag behöver för att klara skolarbetet."),
        (H, "Jag hinner med det jag ska göra utan att bli för stressad."),
        (H, "När det blir jobbigt vet jag vad jag kan göra och vem som kan hjälpa mig."),
        (M, "Det jag lär mig i skolan har betydelse för mig."),
        (M, "Jag har något jag vill nå med min skolgång."),
        (M, "Jag tycker att det är värt att anstränga sig i skolan."),
    ],
}
