"""The starter set of the resource bank, written by us in Swedish (docs/bank.md). The data
migration loads it once; a municipality edits and adds entries after that."""

from __future__ import annotations

TAGS = {
    "struktur": "Struktur och förutsägbarhet",
    "bildstod": "Bildstöd",
    "takk": "TAKK",
    "stress": "Stress och oro",
    "npf": "NPF",
    "larmiljo": "Lärmiljö",
    "grupp": "Grupp och organisation",
    "distans": "Distans och hemmet",
    "narvaro": "Närvaro",
    "relation": "Relation och motivation",
    "sprak": "Språk, läsa och skriva",
    "matematik": "Matematik",
    "vardnadshavare": "Vårdnadshavare",
}

# slug, title, tags, what it is, when to use it, how to do it, how to follow it up
ENTRIES: list[tuple[str, str, tuple[str, ...], str, str, str, str]] = [
    (
        "dagsschema",
        "Dagsschema med bilder",
        ("struktur", "bildstod", "npf"),
        "Ett schema för dagen där varje lektion och rast visas med bild och klockslag.",
        "När eleven ofta frågar vad som händer sen, blir orolig vid byten eller kommer av sig "
        "när dagen ändras.",
        "Gör schemat tillsammans med eleven. Sätt det på bänken eller i mobilen. Gå igenom det "
        "på morgonen och markera när något ändras.",
        "Räkna hur ofta eleven kommer i tid till lektioner och fråga eleven efter två veckor om "
        "schemat hjälper.",
    ),
    (
        "lektionsstruktur",
        "Samma upplägg på varje lektion",
        ("struktur", "larmiljo"),
        "Lektionen börjar och slutar på samma sätt: mål på tavlan, genomgång, eget arbete, "
        "sammanfattning.",
        "När flera elever i gruppen har svårt att komma igång eller inte vet vad som väntas.",
        "Skriv dagens mål och lektionens delar på tavlan. Använd samma ordning varje gång och "
        "säg till innan ni byter del.",
        "Jämför hur många uppgifter eleven gör klart före och efter, och fråga eleven vad som "
        "är lättare nu.",
    ),
    (
        "forvarning",
        "Förvarning inför förändringar",
        ("struktur", "npf", "stress"),
        "Eleven får veta i förväg när något ändras: vikarie, nytt rum, utflykt eller prov.",
        "När oväntade förändringar leder till frånvaro, utbrott eller att eleven går hem.",
        "Bestäm vem som berättar och hur (sms, lapp, samtal). Ge förvarning dagen innan och "
        "påminn samma morgon.",
        "Följ upp frånvaron de dagar något ändrades, före och efter att förvarningen började.",
    ),
    (
        "timstock",
        "Tidshjälpmedel (timstock eller timer)",
        ("struktur", "npf", "bildstod"),
        "En timer som visar hur lång tid som är kvar av en uppgift eller paus.",
        "När eleven har svårt att uppfatta tid, att börja eller att sluta med en uppgift.",
        "Dela uppgiften i korta pass. Ställ timern tillsammans och bestäm vad som händer när "
        "tiden är slut.",
        "Räkna hur många pass eleven gör klart per lektion och fråga hur det känns.",
    ),
    (
        "bildstod-instruktioner",
        "Instruktioner med bildstöd",
        ("bildstod", "sprak", "npf"),
        "Muntliga instruktioner kompletteras med bilder eller en kort punktlista steg för steg.",
        "När eleven inte kommer igång efter en muntlig genomgång eller ofta frågar vad man ska "
        "göra.",
        "Lägg instruktionen på bänken med ett steg per rad och en bild per steg. Låt eleven "
        "bocka av.",
        "Jämför hur ofta eleven kommer igång själv före och efter, under två till fyra veckor.",
    ),
    (
        "takk",
        "TAKK – tecken som stöd",
        ("takk", "sprak", "bildstod"),
        "Tecken används tillsammans med tal för att förtydliga viktiga ord.",
        "När eleven har en språkstörning, är ny i svenska språket eller har svårt att ta in tal.",
        "Välj ut några viktiga ord för veckan. Alla vuxna runt eleven använder samma tecken. "
        "Börja med få tecken.",
        "Följ upp med eleven och vårdnadshavare om förståelsen blivit bättre och om eleven "
        "själv använder tecknen.",
    ),
    (
        "lugn-plats",
        "Lugn plats att gå till",
        ("stress", "larmiljo", "npf"),
        "En bestämd plats där eleven kan vara en stund när det blir för mycket.",
        "När eleven lämnar lektioner, blir arg eller stänger av när stressen stiger.",
        "Bestäm platsen och hur eleven visar att hen går dit (ett kort, ett tecken). Bestäm "
        "hur länge och vem som hämtar.",
        "Räkna hur ofta platsen används och om eleven kommer tillbaka till lektionen.",
    ),
    (
        "stresstrappa",
        "Stresstrappa och plan för svåra lägen",
        ("stress", "npf", "relation"),
        "Eleven och en vuxen beskriver tillsammans tecknen på stigande stress och vad som "
        "hjälper i varje steg.",
        "När eleven hamnar i samma svåra lägen flera gånger och vuxna inte vet vad som hjälper.",
        "Rita en trappa med tre till fem steg. Skriv vad eleven märker, vad vuxna ser och vad "
        "som hjälper. Dela med de vuxna som behöver den.",
        "Gå igenom trappan med eleven efter varje svårt läge och efter fyra veckor.",
    ),
    (
        "horselskydd",
        "Hörselkåpor och avskärmning",
        ("larmiljo", "npf", "stress"),
        "Hörselkåpor, skärmar eller en plats längst fram för att minska ljud och synintryck.",
        "När eleven störs av ljud och rörelse och tappar fokus eller blir trött tidigt.",
        "Låt eleven prova vad som hjälper. Ha kåporna på en fast plats så att eleven inte "
        "behöver fråga.",
        "Fråga eleven efter en vecka och jämför hur länge eleven arbetar på egen hand.",
    ),
    (
        "placering",
        "Genomtänkt placering i klassrummet",
        ("larmiljo", "grupp"),
        "Eleven sitter där det är lugnast, nära läraren eller dörren, efter vad eleven behöver.",
        "När eleven distraheras, blir orolig av att ha folk bakom sig eller behöver gå ut ibland.",
        "Prata med eleven om var det är bäst att sitta. Behåll placeringen även när "
        "klassrummet möbleras om.",
        "Följ upp med eleven efter två veckor.",
    ),
    (
        "pauser",
        "Planerade pauser",
        ("struktur", "stress", "npf"),
        "Korta pauser som finns i planen i förväg i stället för att tas när det redan gått "
        "för långt.",
        "När eleven orkar kortare stunder än lektionen är lång.",
        "Lägg in en paus efter varje arbetspass. Bestäm vad eleven gör under pausen och hur "
        "länge den är.",
        "Räkna hur många arbetspass eleven gör klart och om pauserna kan bli färre.",
    ),
    (
        "korta-uppgifter",
        "Uppgifter i mindre delar",
        ("struktur", "npf", "matematik"),
        "Stora uppgifter delas upp i delar med en tydlig början och ett tydligt slut.",
        "När eleven inte börjar, ger upp eller lämnar in ofärdigt.",
        "Ge en del i taget. Visa hur många delar det finns. Bekräfta varje färdig del.",
        "Jämför andelen inlämnade uppgifter före och efter.",
    ),
    (
        "alternativ-redovisning",
        "Redovisa på annat sätt",
        ("sprak", "relation"),
        "Eleven får visa vad hen kan muntligt, med bilder, film eller i ett mindre sammanhang.",
        "När eleven kan mer än hen visar på skriftliga prov eller inför klassen.",
        "Bestäm tillsammans med eleven vilket sätt som passar. Bedöm samma kunskapskrav.",
        "Jämför resultaten och elevens närvaro vid prov före och efter.",
    ),
    (
        "talsyntes",
        "Talsyntes och inläst material",
        ("sprak", "larmiljo"),
        "Texter läses upp av datorn eller finns inlästa, så att eleven kan lyssna i stället "
        "för att läsa.",
        "När läsningen tar så mycket kraft att eleven inte hinner förstå innehållet.",
        "Installera talsyntes och visa eleven hur den används. Se till att läromedlen finns "
        "digitalt.",
        "Fråga eleven och jämför godkända ämnen med mycket text före och efter.",
    ),
    (
        "stodmall-skriva",
        "Skrivmallar och tankekartor",
        ("sprak", "struktur"),
        "En mall med rubriker eller en tankekarta som hjälper eleven att ordna sina tankar "
        "innan hen skriver.",
        "När eleven har mycket att säga men inte kommer igång med att skriva.",
        "Ge mallen vid varje skrivuppgift. Fyll i den första tillsammans.",
        "Jämför längden och färdigheten på texterna före och efter.",
    ),
    (
        "konkret-matematik",
        "Konkret material i matematik",
        ("matematik", "bildstod"),
        "Plockmaterial, bilder och tallinjer som gör talen synliga.",
        "När eleven fastnar i abstrakta uppgifter eller tappar lusten i matematik.",
        "Börja varje nytt område med material och bilder. Låt eleven förklara med materialet.",
        "Följ upp med en diagnos efter fyra veckor och jämför med den förra.",
    ),
    (
        "flexibel-grupp",
        "Flexibel undervisningsgrupp",
        ("grupp", "npf", "larmiljo"),
        "Eleven undervisas i en mindre grupp vissa lektioner och är med i klassen resten av tiden.",
        "När anpassningar i klassrummet inte räckt och eleven behöver lugn eller mer stöd i "
        "vissa ämnen.",
        "Bestäm vilka lektioner, hur länge och hur eleven går tillbaka. Håll klassens lärare "
        "informerade.",
        "Jämför närvaro och godkända ämnen före och efter; planera för återgång till klassen.",
    ),
    (
        "trygg-vuxen",
        "En trygg vuxen varje dag",
        ("relation", "narvaro", "stress"),
        "En bestämd vuxen som eleven träffar varje dag, en kort stund, oavsett hur det går.",
        "När eleven saknar någon att vända sig till i skolan eller börjat undvika skolan.",
        "Bestäm vem, när och var. Håll mötena korta och förutsägbara. Ha en ersättare.",
        "Följ närvaron vecka för vecka och fråga eleven hur det känns att komma till skolan.",
    ),
    (
        "mottagning-morgon",
        "Mottagning på morgonen",
        ("narvaro", "relation", "struktur"),
        "Eleven möts vid entrén eller en bestämd plats när skoldagen börjar.",
        "När eleven har svårt att komma in i skolan på morgonen eller kommer sent ofta.",
        "Bestäm tid och plats. Den vuxne väntar även om eleven är sen. Börja med något lättsamt.",
        "Räkna sena ankomster och hela dagars frånvaro före och efter.",
    ),
    (
        "stegvis-atergang",
        "Stegvis återgång till skolan",
        ("narvaro", "stress", "vardnadshavare"),
        "En plan där eleven kommer tillbaka till skolan lite i taget efter lång frånvaro.",
        "När eleven varit borta länge och en hel dag känns omöjlig.",
        "Börja med en kort tid på en trygg plats. Öka i små steg som eleven och vårdnadshavare "
        "är med och bestämmer. Skriv ner planen.",
        "Följ upp varje vecka: närvaro i minuter och hur eleven mår.",
    ),
    (
        "distansundervisning",
        "Undervisning på distans en period",
        ("distans", "narvaro"),
        "Eleven följer undervisningen hemifrån under en bestämd period med kontakt varje dag.",
        "När eleven inte klarar att vara i skolan just nu och skollagens villkor för "
        "distansundervisning är uppfyllda.",
        "Bestäm ämnen, tider och vem som har daglig kontakt. Planera hur eleven kommer tillbaka.",
        "Följ upp kunskapsutvecklingen och planen för återgång varannan vecka.",
    ),
    (
        "veckobrev-hem",
        "Veckovis kontakt med hemmet",
        ("vardnadshavare", "relation"),
        "Mentorn och vårdnadshavare hör av sig till varandra varje vecka, också när det går bra.",
        "När samarbetet med hemmet behöver byggas upp eller eleven har ökande frånvaro.",
        "Bestäm dag och sätt (sms, telefon, lärplattform). Berätta minst en sak som gått bra.",
        "Fråga vårdnadshavare efter fyra veckor om kontakten hjälper och följ närvaron.",
    ),
    (
        "laxfri",
        "Skolarbetet stannar i skolan",
        ("stress", "vardnadshavare", "npf"),
        "Eleven gör sitt skolarbete i skolan, med tid och stöd för det, i stället för läxor.",
        "När läxor leder till konflikter hemma eller gör att eleven inte orkar komma dagen efter.",
        "Lägg in tid för det som annars blir läxa, till exempel i en studiestuga.",
        "Fråga eleven och vårdnadshavare om stressen minskat och följ närvaron.",
    ),
    (
        "studiestuga",
        "Studiestuga efter skoltid",
        ("grupp", "matematik", "sprak"),
        "En tid efter lektionerna där eleven får hjälp med arbetet av en lärare.",
        "När eleven ligger efter i flera ämnen eller saknar stöd hemma.",
        "Bestäm dagar och vad eleven ska arbeta med. En vuxen tar emot och hjälper till att "
        "komma igång.",
        "Jämför godkända ämnen och inlämnade uppgifter före och efter.",
    ),
    (
        "elevens-egna-mal",
        "Elevens egna mål",
        ("relation", "struktur"),
        "Eleven sätter ett eller två små mål för veckan tillsammans med mentorn.",
        "När eleven känner att inget går att påverka eller tappat motivationen.",
        "Välj ett mål som går att nå på en vecka. Skriv ner det och hur ni ser att det är nått.",
        "Titta på målet tillsammans varje vecka och fira det som gått bra.",
    ),
    (
        "rastaktivitet",
        "Planerade raster",
        ("relation", "stress", "grupp"),
        "Eleven har något bestämt att göra på rasterna, med en vuxen i närheten.",
        "När det är rasterna som är svåra: konflikter, ensamhet eller oro.",
        "Ta reda på vad eleven tycker om att göra. Erbjud en aktivitet eller en plats inne.",
        "Fråga eleven och räkna konflikter på raster före och efter.",
    ),
]
