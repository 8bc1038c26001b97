"""The offline twin: postcode centroids, straight line times the road factor, nearest neighbour."""

from decimal import Decimal

import pytest

from stores.demo import STORES
from stores.geo import AddressAmbiguous, AddressNotFound, GeocodeResult, Leg, Point, Precision, Route
from stores.geo.offline import OfflineGeocoder, OfflineRouter, haversine_m
from stores.geo.postcodes import POSTCODES

from .factories import StorePageFactory

geocoder = OfflineGeocoder()
router = OfflineRouter()
START = Point(Decimal("45.750000"), Decimal("4.850000"))


def north_of_start(hundredths):
    """A point `hundredths` × 0.01° of latitude north of START (1,111.95 m each)."""
    return Point(START.latitude + Decimal(hundredths) / 100, START.longitude)


def test_an_address_with_its_postcode_is_placed_at_the_postcodes_centre():
    assert geocoder.geocode("12 rue Victor Hugo 69002 Lyon") == GeocodeResult(
        latitude=Decimal("45.748700"),
        longitude=Decimal("4.826200"),
        address="12 rue Victor Hugo, 69002 Lyon",
        postcode="69002",
        city="Lyon",
        precision=Precision.AREA,
        source="offline",
    )


def test_the_postcode_is_the_last_five_digit_number():
    assert geocoder.geocode("69100 avenue du 8 mai 1945, 69008 Lyon").postcode == "69008"


def test_an_arrondissement_of_lyon_stands_for_its_postcode():
    result = geocoder.geocode("5 place de la Croix-Rousse, Lyon 4e")

    assert (result.postcode, result.address) == ("69004", "5 place de la Croix-Rousse, 69004 Lyon")


def test_a_town_around_lyon_stands_for_its_postcode_even_when_its_name_holds_lyon():
    result = geocoder.geocode("3 rue du Commandant Charcot, Sainte-Foy-lès-Lyon")

    assert (result.postcode, result.city) == ("69110", "Sainte-Foy-lès-Lyon")
    assert result.address == "3 rue du Commandant Charcot, 69110 Sainte-Foy-lès-Lyon"


def test_lyon_without_an_arrondissement_is_ambiguous():
    with pytest.raises(AddressAmbiguous) as error:
        geocoder.geocode("1 rue de la République, Lyon")

    assert error.value.message == "Précisez le code postal ou l'arrondissement de Lyon."
    assert error.value.candidates == [f"6900{n} Lyon" for n in range(1, 10)]


def test_an_unknown_postcode_is_not_found():
    with pytest.raises(AddressNotFound) as error:
        geocoder.geocode("1 rue de Rivoli, 75001 Paris")

    assert error.value.message == "Nous ne trouvons pas le code postal 75001 : vérifiez l'adresse."


def test_an_address_without_postcode_or_known_town_is_not_found():
    with pytest.raises(AddressNotFound) as error:
        geocoder.geocode("1 rue de la Paix")

    assert error.value.message == "Adresse introuvable : indiquez le code postal et la ville."


def test_every_postcode_of_the_demo_stores_has_a_centre():
    codes = set()
    for _slug, _title, _street, postcode, *_rest in STORES:
        codes.add(postcode)
    for store in STORES:
        codes.update(code.strip() for code in store[8].split(","))

    assert codes - set(POSTCODES) == set()


@pytest.mark.parametrize("store", STORES, ids=[store[0] for store in STORES])
def test_a_demo_store_lies_within_two_kilometres_of_its_postcodes_centre(store):
    _slug, _title, street, postcode, _phone, lat, lng, *_rest = store

    placed = geocoder.geocode(f"{street}, {postcode} Lyon")

    assert haversine_m(placed, Point(Decimal(lat), Decimal(lng))) < 2000


def test_travel_is_the_straight_line_times_the_road_factor_at_twenty_kmh():
    # 0.01° of latitude is 1,111.95 m; × 1.3 = 1,445.5 m; at 20 km/h (5.556 m/s) 260.2 s.
    assert router.travel([START], [north_of_start(1), START]) == [[Leg(1446, 260), Leg(0, 0)]]


def test_travel_answers_one_row_per_origin_and_one_leg_per_destination():
    matrix = router.travel([START, north_of_start(1)], [north_of_start(2), north_of_start(3), START])

    assert [len(row) for row in matrix] == [3, 3]
    assert matrix[0][0] == matrix[1][1]  # both 0.02° apart
    assert matrix[1][0] == matrix[1][2] == Leg(1446, 260)  # both 0.01° apart


def test_a_round_visits_the_nearest_stop_first_and_comes_back():
    stops = [north_of_start(3), north_of_start(1), north_of_start(2)]

    route = router.optimise_route(START, stops)

    assert route.order == [1, 2, 0]
    assert route.stops == [stops[1], stops[2], stops[0]]
    assert route.legs == [Leg(1446, 260), Leg(1446, 260), Leg(1446, 260), Leg(4337, 781)]
    assert (route.distance_m, route.duration_s, route.source) == (8675, 1561, "offline")


def test_of_two_stops_as_near_the_one_given_first_comes_first():
    first, second = north_of_start(1), north_of_start(1)

    route = router.optimise_route(START, [first, second])

    assert route.order == [0, 1]
    assert route.stops[0] is first


def test_a_round_takes_any_object_with_coordinates_and_gives_it_back():
    place = geocoder.geocode("12 rue Victor Hugo, 69002 Lyon")

    route = router.optimise_route(START, [place])

    assert route.stops == [place]
    assert route.stops[0] is place


def test_a_round_without_stops_is_empty():
    assert router.optimise_route(START, []) == Route(stops=[], order=[], legs=[], source="offline")


def test_a_round_has_at_most_25_stops():
    with pytest.raises(ValueError, match="at most 25 stops"):
        router.optimise_route(START, [START] * 26)


def test_a_matrix_has_at_most_625_pairs():
    with pytest.raises(ValueError, match="at most 625"):
        router.travel([START] * 26, [START] * 25)


def test_stores_are_points_as_they_are(store_index):
    bellecour = StorePageFactory(
        parent=store_index, latitude=Decimal("45.755040"), longitude=Decimal("4.830760")
    )
    vaise = StorePageFactory(parent=store_index, latitude=Decimal("45.774120"), longitude=Decimal("4.805480"))

    [[leg]] = router.travel([bellecour], [vaise])
    route = router.optimise_route(bellecour, [vaise])

    assert leg == Leg(3756, 676)  # 2,889 m as the crow flies × 1.3, at 20 km/h
    assert route.stops == [vaise]
    assert route.legs == [leg, leg]
