"""Date expressions resolved against the publication date (Saturday 30 November 2024)."""
from datetime import date

import pytest

from geoevents.dates import find_dates

PUB = date(2024, 11, 30)  # a Saturday


@pytest.mark.parametrize("sentence,expected,precision", [
    ("Jets struck the town on Friday.", date(2024, 11, 29), "day"),
    ("Rebels entered the city late on Wednesday.", date(2024, 11, 27), "day"),
    ("Fighting has continued since Wednesday.", date(2024, 11, 27), "day"),
    ("Clashes erupted on Saturday morning.", date(2024, 11, 30), "day"),
    ("The base fell yesterday.", date(2024, 11, 29), "day"),
    ("Strikes hit the market last night.", date(2024, 11, 29), "day"),
    ("The offensive began this week.", date(2024, 11, 25), "week"),
    ("The town fell on November 29.", date(2024, 11, 29), "day"),
    ("The town fell on 28 November.", date(2024, 11, 28), "day"),
    ("On 14 November 2024 a drone struck Idlib.", date(2024, 11, 14), "day"),
    ("The army recaptured the town in 2016.", date(2016, 1, 1), "year"),
    ("The ceasefire of March 2020 held until now, since March 2020 in fact.", date(2020, 3, 1), "month"),
    ("The army retook the town over the weekend.", date(2024, 11, 30), "week"),   # its Saturday
    ("Rebels took the base last weekend.", date(2024, 11, 23), "week"),      # said on a Saturday
])
def test_expressions(sentence, expected, precision):
    found = find_dates(sentence, PUB)
    assert found, sentence
    assert (found[-1].date, found[-1].precision) == (expected, precision)


def test_no_publication_date_keeps_relative_dates_unknown():
    assert find_dates("Jets struck the town on Friday.", None) == []
    assert find_dates("On 14 November 2024 a drone struck.", None)[0].date == date(2024, 11, 14)


def test_impossible_dates_are_not_invented():
    assert find_dates("Reports dated 31 February 2024 were false.", PUB) == []


def test_day_month_without_year_does_not_jump_into_the_future():
    # published in early January: "on 30 December" is last year's
    found = find_dates("The town fell on 30 December.", date(2025, 1, 2))
    assert found[0].date == date(2024, 12, 30)
