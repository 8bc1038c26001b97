"""Postcode centroids of the demo city (Lyon) and the towns around it, for the offline geocoder.

Each entry: postcode → (city as the post office writes it, the names a customer may type instead of
the postcode, latitude, longitude). The coordinates are the approximate centre of the area
(within about 500 m): enough to pick the nearest store and to estimate a trip, not to find a door.
Every postcode a demo store delivers (stores/demo.py) must be here (a test holds this); a real
deployment adds the postcodes its stores deliver.
"""

POSTCODES = {
    "69001": ("Lyon", ("lyon 1er", "lyon 1"), "45.769600", "4.829100"),
    "69002": ("Lyon", ("lyon 2e", "lyon 2"), "45.748700", "4.826200"),
    "69003": ("Lyon", ("lyon 3e", "lyon 3"), "45.759900", "4.859000"),
    "69004": ("Lyon", ("lyon 4e", "lyon 4"), "45.778600", "4.827500"),
    "69005": ("Lyon", ("lyon 5e", "lyon 5"), "45.756000", "4.803000"),
    "69006": ("Lyon", ("lyon 6e", "lyon 6"), "45.770000", "4.851000"),
    "69007": ("Lyon", ("lyon 7e", "lyon 7"), "45.738000", "4.840000"),
    "69008": ("Lyon", ("lyon 8e", "lyon 8"), "45.735000", "4.870000"),
    "69009": ("Lyon", ("lyon 9e", "lyon 9"), "45.780000", "4.800000"),
    "69100": ("Villeurbanne", ("villeurbanne",), "45.771000", "4.890000"),
    "69110": ("Sainte-Foy-lès-Lyon", ("sainte foy les lyon", "ste foy les lyon"), "45.734000", "4.794000"),
    "69120": ("Vaulx-en-Velin", ("vaulx en velin",), "45.778000", "4.921000"),
    "69130": ("Écully", ("ecully",), "45.775000", "4.777000"),
    "69160": ("Tassin-la-Demi-Lune", ("tassin la demi lune", "tassin"), "45.764000", "4.755000"),
    "69190": ("Saint-Fons", ("saint fons",), "45.708000", "4.853000"),
    "69200": ("Vénissieux", ("venissieux",), "45.697000", "4.887000"),
    "69300": ("Caluire-et-Cuire", ("caluire et cuire", "caluire"), "45.796000", "4.846000"),
    "69350": ("La Mulatière", ("la mulatiere",), "45.730000", "4.812000"),
    "69500": ("Bron", ("bron",), "45.738000", "4.913000"),
    "69600": (
        "Oullins-Pierre-Bénite",
        ("oullins pierre benite", "oullins", "pierre benite"),
        "45.714000",
        "4.807000",
    ),
}
