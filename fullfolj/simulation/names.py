"""Name, street and place lists for the simulated municipality.

Swedish names are among the most common given names and surnames in SCB's name statistics;
the other origins (Arabic, Somali, Finnish, Persian, Bosnian, Polish, Tigrinya, Kurdish/Turkish)
are the largest groups of foreign-born residents in Sweden (SCB, utrikes födda efter födelseland).
Every person and place is fictional: names are combined at random.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    """Names of one origin: girls', boys', adult women's and men's first names, and surnames."""

    key: str
    share: float  # share of families (SCB: about a quarter of pupils have a foreign background)
    girls: tuple[str, ...]
    boys: tuple[str, ...]
    women: tuple[str, ...]
    men: tuple[str, ...]
    surnames: tuple[str, ...]


_SWEDISH_GIRLS = (
    "Alice", "Maja", "Vera", "Elsa", "Astrid", "Wilma", "Freja", "Ella", "Alma", "Olivia", "Selma",
    "Ebba", "Saga", "Agnes", "Clara", "Stella", "Alva", "Signe", "Ellen", "Lilly", "Tyra", "Nora",
    "Ines", "Elvira", "Ida", "Iris", "Edith", "Svea", "Greta", "Hedda", "Juni", "Lova", "Moa",
    "Stina", "Emma", "Julia", "Linnea", "Hanna", "Matilda", "Ronja", "Elin", "Tilda", "Felicia",
)  # fmt: skip
_SWEDISH_BOYS = (
    "Noah", "Hugo", "William", "Liam", "Lucas", "Oscar", "Oliver", "Matteo", "Elias", "Nils", "Leo",
    "Adam", "Vincent", "Frans", "Theodor", "Alfred", "Charlie", "Ludvig", "Arvid", "Sixten",
    "August", "Viktor", "Harry", "Isak", "Olle", "Melvin", "Gustav", "Axel", "Malte", "Elton",
    "Valter", "Love", "Ture", "Emil", "Albin", "Filip", "Anton", "Edvin", "Alexander", "Vidar",
    "Hampus", "Jonathan", "Melker",
)  # fmt: skip
_SWEDISH_WOMEN = (
    "Anna", "Maria", "Sara", "Emma", "Karin", "Sofia", "Johanna", "Linda", "Jenny", "Frida",
    "Malin", "Lisa", "Camilla", "Elin", "Hanna", "Jessica", "Caroline", "Anneli", "Helena",
    "Therese", "Emelie", "Josefin", "Ida", "Matilda", "Sandra", "Lina", "Ulrika", "Eva", "Cecilia",
)  # fmt: skip
_SWEDISH_MEN = (
    "Johan", "Anders", "Daniel", "Andreas", "Fredrik", "Mikael", "Martin", "Jonas", "Marcus",
    "Erik", "Peter", "Magnus", "David", "Niklas", "Patrik", "Stefan", "Henrik", "Mattias",
    "Tobias", "Jimmy", "Robert", "Kristoffer", "Thomas", "Per", "Christian", "Joakim", "Simon",
)  # fmt: skip
_SWEDISH_SURNAMES = (
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
    "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson", "Bengtsson",
    "Jönsson", "Lindberg", "Jakobsson", "Magnusson", "Lindström", "Olofsson", "Lindqvist",
    "Lindgren", "Berg", "Axelsson", "Bergström", "Lundberg", "Lind", "Lundgren", "Lundqvist",
    "Mattsson", "Berglund", "Fredriksson", "Sandberg", "Henriksson", "Forsberg", "Sjöberg",
    "Wallin", "Engström", "Eklund", "Danielsson", "Lundin", "Håkansson", "Björk", "Bergman",
    "Gunnarsson", "Holm", "Wikström", "Samuelsson", "Isaksson", "Fransson", "Bergqvist",
    "Nyström", "Holmberg", "Arvidsson", "Löfgren", "Söderberg", "Nyberg", "Blomqvist", "Claesson",
    "Nordström", "Mårtensson", "Lundström", "Viklund", "Björklund", "Eliasson", "Pålsson",
    "Berggren", "Sandström", "Nordin", "Ström", "Åberg", "Hermansson", "Ekström", "Falk",
    "Holmgren", "Dahlberg", "Hellström", "Hedlund", "Sundberg", "Sjögren", "Blom", "Öberg",
)  # fmt: skip

ORIGINS: tuple[Origin, ...] = (
    Origin("swedish", 0.74, _SWEDISH_GIRLS, _SWEDISH_BOYS, _SWEDISH_WOMEN, _SWEDISH_MEN,
           _SWEDISH_SURNAMES),
    Origin(
        "arabic", 0.08,
        ("Fatima", "Maryam", "Aya", "Sara", "Noor", "Lina", "Hiba", "Amira", "Yasmin", "Layla",
         "Rania", "Salma", "Zainab", "Hana", "Rahaf"),
        ("Mohammed", "Ahmed", "Ali", "Omar", "Yousef", "Hassan", "Hussein", "Ibrahim", "Khaled",
         "Adam", "Mustafa", "Karim", "Zakaria", "Hamza", "Ilyas"),
        ("Fatima", "Maryam", "Nadia", "Rasha", "Huda", "Samira", "Dalia", "Rim", "Souad", "Amal"),
        ("Mohammed", "Ahmed", "Ali", "Khaled", "Mahmoud", "Hassan", "Samir", "Walid", "Tarek",
         "Jamal"),
        ("Ali", "Mohammed", "Ahmed", "Hassan", "Hussein", "Ibrahim", "Khalil", "Saleh", "Abdullah",
         "Mahmoud", "Haddad", "Nasser", "Yousef", "Jaber", "Karim", "Mansour", "Othman"),
    ),
    Origin(
        "somali", 0.03,
        ("Hodan", "Amina", "Fadumo", "Ayaan", "Hibaaq", "Nasra", "Sagal", "Ifrah", "Ikran",
         "Deeqa"),
        ("Abdi", "Abdirahman", "Mahad", "Liban", "Hamse", "Guled", "Abdullahi", "Bashir", "Farah",
         "Yasin"),
        ("Hawa", "Faadumo", "Khadra", "Sahra", "Asha", "Halima", "Naima", "Ubah"),
        ("Abdi", "Mohamed", "Hassan", "Ahmed", "Abdullahi", "Yusuf", "Ismail", "Omar"),
        ("Abdi", "Farah", "Mohamud", "Warsame", "Osman", "Hersi", "Jama", "Nur", "Aden", "Omar",
         "Yusuf", "Hashi"),
    ),
    Origin(
        "finnish", 0.03,
        ("Aino", "Helmi", "Emmi", "Venla", "Pihla", "Ella", "Sofia", "Aada", "Iida", "Lilja"),
        ("Eino", "Onni", "Aleksi", "Veeti", "Eetu", "Leo", "Elias", "Väinö", "Oliver", "Joona"),
        ("Sanna", "Johanna", "Kaisa", "Tiina", "Minna", "Riikka", "Satu", "Päivi", "Anu"),
        ("Juha", "Mikko", "Jari", "Pekka", "Timo", "Antti", "Ville", "Janne", "Markku"),
        ("Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Hämäläinen", "Laine", "Heikkinen",
         "Koskinen", "Järvinen", "Lehtonen", "Salminen", "Lahtinen"),
    ),
    Origin(
        "persian", 0.025,
        ("Sara", "Parisa", "Shirin", "Nazanin", "Mahsa", "Yasaman", "Ava", "Donya", "Roya",
         "Leila"),
        ("Reza", "Amir", "Arash", "Dariush", "Kian", "Arvin", "Navid", "Babak", "Mehdi", "Kourosh"),
        ("Maryam", "Fariba", "Mitra", "Shahla", "Zahra", "Nasrin", "Mina", "Azadeh"),
        ("Reza", "Ali", "Hamid", "Mehdi", "Majid", "Saeed", "Behrouz", "Hossein"),
        ("Ahmadi", "Hosseini", "Mohammadi", "Rahimi", "Karimi", "Rezaei", "Moradi", "Jafari",
         "Rostami", "Sadeghi", "Azizi", "Ghorbani"),
    ),
    Origin(
        "bosnian", 0.025,
        ("Amila", "Lejla", "Emina", "Ajla", "Selma", "Merima", "Amra", "Jasmina", "Medina",
         "Sanela"),
        ("Emir", "Amar", "Haris", "Adnan", "Kenan", "Edin", "Tarik", "Mirza", "Damir", "Nermin"),
        ("Amela", "Alma", "Sabina", "Mirela", "Elvira", "Azra", "Senada", "Edina"),
        ("Almir", "Edin", "Mirsad", "Senad", "Jasmin", "Nedim", "Samir", "Dino"),
        ("Hodžić", "Hadžić", "Begić", "Delić", "Kovačević", "Mehmedović", "Hasanović", "Husić",
         "Salihović", "Omerović", "Alić", "Jukić"),
    ),
    Origin(
        "polish", 0.02,
        ("Zofia", "Julia", "Maja", "Zuzanna", "Natalia", "Wiktoria", "Aleksandra", "Hanna",
         "Amelia", "Lena"),
        ("Jakub", "Kacper", "Szymon", "Filip", "Bartosz", "Antoni", "Mateusz", "Igor", "Jan",
         "Franciszek"),
        ("Agnieszka", "Katarzyna", "Magdalena", "Joanna", "Monika", "Ewa", "Beata", "Dorota"),
        ("Piotr", "Tomasz", "Michał", "Krzysztof", "Paweł", "Marcin", "Łukasz", "Grzegorz"),
        ("Nowak", "Wójcik", "Mazur", "Krawczyk", "Kaczmarek", "Zając", "Król", "Wieczorek",
         "Kowalczyk", "Pawlak", "Michalak", "Sikora"),
    ),
    Origin(
        "tigrinya", 0.015,
        ("Helen", "Senait", "Semhar", "Ruth", "Feven", "Selam", "Luwam", "Yordanos"),
        ("Yonas", "Daniel", "Samuel", "Filmon", "Robel", "Mewael", "Semere", "Natnael"),
        ("Tsega", "Mebrat", "Abeba", "Saba", "Almaz", "Hiwet"),
        ("Tesfay", "Berhane", "Kibrom", "Haile", "Yohannes", "Mulugeta"),
        ("Tesfay", "Haile", "Gebremedhin", "Berhane", "Tekle", "Ghebreyesus", "Kidane", "Woldu"),
    ),
    Origin(
        "kurdish_turkish", 0.025,
        ("Zeynep", "Elif", "Rojda", "Berfin", "Dilan", "Nesrin", "Ronahi", "Helin", "Sevda",
         "Lava"),
        ("Baran", "Kawa", "Serhat", "Emre", "Deniz", "Rojhat", "Azad", "Welat", "Mehmet", "Can"),
        ("Ayşe", "Gülistan", "Fatma", "Leyla", "Hatice", "Nazdar", "Berivan", "Emine"),
        ("Mehmet", "Ahmet", "Mustafa", "Hüseyin", "Kemal", "Dilshad", "Shvan", "Rebwar"),
        ("Yilmaz", "Kaya", "Demir", "Şahin", "Çelik", "Doğan", "Aydin", "Arslan", "Kurt",
         "Özdemir", "Bozkurt", "Ekinci"),
    ),
)  # fmt: skip

STREETS = (
    "Storgatan", "Kyrkogatan", "Skolgatan", "Björkvägen", "Ekvägen", "Lönnvägen", "Tallvägen",
    "Granvägen", "Rönnvägen", "Lindvägen", "Parkvägen", "Villavägen", "Ängsvägen", "Åkervägen",
    "Bäckvägen", "Strandvägen", "Sjövägen", "Solvägen", "Vallgatan", "Drottninggatan",
    "Kungsgatan", "Järnvägsgatan", "Stationsvägen", "Industrivägen", "Hantverkargatan",
    "Nygatan", "Södra vägen", "Norra vägen", "Västra vägen", "Östra vägen", "Kvarnvägen",
    "Smedjegatan", "Backvägen", "Hagvägen", "Blåbärsvägen", "Lingonvägen", "Hassellunden",
    "Vitsippsvägen", "Klövervägen", "Mossvägen",
)  # fmt: skip

# Fictional municipalities (none is a real Swedish municipality); the first is the demo one.
MUNICIPALITIES = (
    "Sjöbacka", "Granlunda", "Björkhamn", "Ekedal", "Älvstrand", "Norrviken", "Kvarnby",
    "Ljungsund", "Hagaberg", "Stenfors", "Rönnholm", "Tallmo", "Vikstad",
)  # fmt: skip

# Villages around each municipality's main town, for addresses.
VILLAGE_SUFFIXES = ("torp", "by", "red", "ås", "hult", "näs")

SCHOOL_NAME_STEMS = (
    "Ekbacken", "Solängen", "Björkhagen", "Tallåsen", "Lindbacka", "Rönnskolan", "Ängsskolan",
    "Sjöängen", "Kvarnbacken", "Hagaskolan", "Bergsjön", "Vallhöjden", "Lönnhagen", "Granbacken",
    "Älvängen", "Norrskolan", "Söderskolan", "Västerskolan", "Österskolan", "Bäckaskolan",
    "Skogsbrynet", "Strandskolan", "Mossen", "Klöverskolan", "Sandvik", "Kyrkbacken",
)  # fmt: skip

INDEPENDENT_ORGANISERS = (
    ("Friskolan Lärkan AB", "Lärkanskolan"),
    ("Stiftelsen Kunskapsbron", "Kunskapsbron"),
    ("Nova Utbildning AB", "Novaskolan"),
    ("Montessoriföreningen Ugglan", "Montessoriskolan Ugglan"),
    ("Framtidsskolan i Väst AB", "Framtidsskolan"),
)

EMAIL_DOMAINS = ("gmail.com", "hotmail.com", "outlook.com", "telia.com", "live.se", "icloud.com")

_ASCII = str.maketrans({
    "å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u", "ç": "c", "ş": "s", "ğ": "g", "ı": "i",
    "ž": "z", "č": "c", "ć": "c", "š": "s", "đ": "d", "ł": "l", "ń": "n", "ó": "o", "ś": "s",
    "ź": "z", "ż": "z", "ą": "a", "ę": "e", "ê": "e",
})  # fmt: skip


def ascii_fold(text: str) -> str:
    """Lowercase ASCII for e-mail addresses and usernames ("Sjöberg" → "sjoberg")."""
    return text.lower().translate(_ASCII).replace(" ", "").replace("-", "")
