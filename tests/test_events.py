"""Event builder behaviour on sentences written for the project (real gazetteer, real
lexicons).  Publication date: Saturday 30 November 2024."""
from datetime import date

import pytest

from geoevents.events import EventBuilder
from geoevents.model import Document
from geoevents.resolver import Resolver

PUB = date(2024, 11, 30)


@pytest.fixture(scope="module")
def extract():
    resolver, builder = Resolver(), EventBuilder()

    def run(text, published=PUB):
        doc = Document("t.txt", text, published)
        return builder(doc, resolver(doc))
    return run


def only(events, type_=None):
    evs = [e for e in events if type_ is None or e.type == type_]
    assert len(evs) == 1, [(e.type, e.mention.text) for e in events]
    return evs[0]


@pytest.mark.parametrize("sentence,type_,place", [
    ("Hayat Tahrir al-Sham fighters captured Saraqib on Friday.", "control_change", "Saraqib"),
    ("Rebels seized Khan Shaykhun after a short battle.", "control_change", "Khan Shaykhun"),
    ("Rebels took full control of Maarat al-Numan.", "control_change", "Maarat al-Numan"),
    ("Rebels stormed and captured Atarib.", "control_change", "Atarib"),
    ("The army recaptured Suran.", "control_change", "Suran"),
    ("Rebels advanced toward Hama from the north.", "advance", "Hama"),
    ("Rebels pushed to within 10 km of Hama.", "advance", "Hama"),
    ("Fierce clashes erupted in Tal Rifaat.", "clash", "Tal Rifaat"),
    ("Rebels were encircling Saraqib.", "siege", "Saraqib"),
    ("Russian jets struck Atarib.", "airstrike", "Atarib"),
    ("Government artillery shelled Darat Izza.", "shelling", "Darat Izza"),
    ("Gunmen carried out an ambush near Daraa.", "attack", "Daraa"),
])
def test_trigger_families(extract, sentence, type_, place):
    e = only(extract(sentence), type_)
    assert e.mention.text == place


@pytest.mark.parametrize("sentence,place", [
    ("Rockets struck residential areas of Saraqib on Friday.", "Saraqib"),
    ("Mortars hit the centre of Atarib overnight.", "Atarib"),
])
def test_rockets_that_strike_are_shelling_not_an_air_strike(extract, sentence, place):
    e = only(extract(sentence))
    assert (e.type, e.mention.text) == ("shelling", place)


@pytest.mark.parametrize("sentence", [
    "Rebels failed to capture Saraqib.",
    "Hama could fall within days.",
    "The army aims to retake Saraqib.",
    "If the rebels hold Saraqib, the road is cut.",
    "The civil war began in 2011 when protests reached Daraa and forces shelled the town.",
])
def test_negation_modality_and_background_are_not_events(extract, sentence):
    assert [e for e in extract(sentence) if e.type != "casualties"] == []


def test_past_capture_with_year_is_dated_to_the_year(extract):
    e = only(extract("Government forces recaptured Aleppo in 2016."), "control_change")
    assert e.date == date(2016, 1, 1) and e.date_precision == "year"
    assert e.actor == ("syrian_government",)


def test_list_of_places_gives_one_event_each(extract):
    evs = extract("Rebels captured Atarib, Anjara and Khan al-Asal on Thursday.")
    assert sorted(e.mention.text for e in evs if e.type == "control_change") == \
        ["Anjara", "Atarib", "Khan al-Asal"]


def test_roles_active_voice(extract):
    e = only(extract("HTS captured Saraqib from government forces."), "control_change")
    assert e.actor == ("hts",) and e.to_actor == ("hts",)
    assert e.from_actor == ("syrian_government",)


def test_roles_fell_to(extract):
    e = only(extract("Saraqib fell to the rebels on Saturday."), "control_change")
    assert e.to_actor == ("opposition",) and e.from_actor == ("syrian_government",)
    assert e.mention.text == "Saraqib"


def test_roles_withdrawal_cedes_the_place(extract):
    e = only(extract("The Syrian army withdrew from Hama on Thursday."), "control_change")
    assert e.from_actor == ("syrian_government",) and e.to_actor == ("opposition",)
    assert e.date == date(2024, 11, 28)


def test_roles_passive_by(extract):
    e = only(extract("Atarib was captured by the Syrian National Army."), "control_change")
    assert e.to_actor == ("sna",)


def test_coordinated_actors(extract):
    e = only(extract("Syrian and Russian jets struck Atarib on Friday."), "airstrike")
    assert set(e.actor) == {"syrian_government", "russia"}
    assert e.date == date(2024, 11, 29)


def test_hts_leads_the_rebels_when_the_document_says_so(extract):
    evs = extract("The offensive is led by Hayat Tahrir al-Sham. Rebels captured Atarib.")
    assert only(evs, "control_change").actor == ("hts",)


@pytest.mark.parametrize("sentence,status,who", [
    ("SOHR reported that rebels captured Saraqib.", "reported", "SOHR"),
    ("Rebels claimed they had captured Saraqib.", "claimed", None),
    ("Rebels have reportedly captured Saraqib.", "claimed", None),
    ("State media denied that rebels captured Saraqib.", "disputed", "state media"),
    ("Geolocated footage confirmed that rebels captured Saraqib.", "confirmed", None),
])
def test_status_and_attribution(extract, sentence, status, who):
    e = only(extract(sentence), "control_change")
    assert e.status == status
    if who:
        assert who in e.attributed_to


@pytest.mark.parametrize("sentence,n", [
    ("Russian air strikes on Atarib killed at least 24 civilians.", 24),
    ("Air strikes on Atarib killed over 130 people.", 130),
    ("Shelling of Darat Izza killed two soldiers.", 2),
    ("Air strikes on Atarib killed dozens of civilians.", None),
])
def test_fatalities(extract, sentence, n):
    evs = extract(sentence)
    e = [e for e in evs if e.type in ("airstrike", "shelling")][0]
    assert e.fatalities == n
    if n is None:
        assert e.fatalities_qualifier == "dozens"


def test_casualty_toll_without_other_event(extract):
    e = only(extract("Fighting in Tal Rifaat has killed at least 40 fighters, SOHR said."))
    assert e.type == "casualties" and e.fatalities == 40


def test_present_perfect_takes_publication_date_and_past_stays_unknown(extract):
    e = only(extract("Rebels have captured Saraqib."), "control_change")
    assert e.date == PUB and e.date_source == "published"
    e = only(extract("Rebels captured Saraqib."), "control_change")
    assert e.date is None


def test_the_city_refers_back(extract):
    evs = extract("Rebels reached Hama on Wednesday. They captured the city on Thursday.")
    e = only(evs, "control_change")
    assert e.mention.place.name.startswith("Hama") and e.date == date(2024, 11, 28)


def test_same_event_twice_is_merged_with_both_evidence(extract):
    evs = extract("Rebels capture Saraqib\nRebels captured Saraqib on Saturday, SOHR said.",
                  published=PUB)
    cc = [e for e in evs if e.type == "control_change"]
    assert len(cc) == 1 and len(cc[0].evidence) == 2


def test_region_fallback_only_with_a_toll(extract):
    text = ("Fighting raged across northwestern Syria. Russian air strikes killed at least "
            "12 civilians in rebel-held areas.")
    e = only(extract(text), "airstrike")
    assert e.geo_precision == 3 and e.mention.place.level == "region"
    assert extract("Russian air strikes hit rebel-held areas.") == []


@pytest.mark.parametrize("sentence,acled", [
    ("HTS captured Saraqib.", ("Battles", "Non-state actor overtakes territory")),
    ("The Syrian army recaptured Saraqib on Saturday.", ("Battles", "Government regains territory")),
    ("Russian jets struck Atarib.", ("Explosions/Remote violence", "Air/drone strike")),
    ("Government artillery shelled Darat Izza.",
     ("Explosions/Remote violence", "Shelling/artillery/missile attack")),
    ("Fierce clashes erupted in Tal Rifaat.", ("Battles", "Armed clash")),
])
def test_acled_mapping(extract, sentence, acled):
    from geoevents.export import acled_types
    e = [e for e in extract(sentence) if e.type != "casualties"][0]
    assert acled_types(e) == acled


@pytest.mark.parametrize("sentence,type_,place,actor,to_actor", [
    ("Islamic State militants seized Palmyra.", "control_change", "Palmyra", ("isis",), ("isis",)),
    ("The SDF announced it had captured Raqqa from the Islamic State.", "control_change",
     "Raqqa", ("sdf",), ("sdf",)),
    ("Hezbollah fighters and the Syrian army took control of Qusayr.", "control_change",
     "Qusayr", ("hezbollah", "syrian_government"), ("hezbollah", "syrian_government")),
    ("Government forces retook the town of Maarat al-Numan.", "control_change",
     "Maarat al-Numan", ("syrian_government",), ("syrian_government",)),
    ("Israeli missiles hit targets near Damascus International Airport.", "shelling",
     "Damascus International Airport", ("israel",), ()),
    ("At least 12 people were killed in regime barrel bomb attacks on Douma.", "airstrike",
     "Douma", ("syrian_government",), ()),
])
def test_actor_patterns_beyond_the_offensive(extract, sentence, type_, place, actor, to_actor):
    e = [e for e in extract(sentence) if e.type == type_][0]
    assert e.mention.text == place
    assert set(e.actor) == set(actor) and set(e.to_actor) == set(to_actor)


def test_similar_names_take_the_exact_spelling(extract):
    e = only(extract("Opposition factions withdrew from Daraya under a deal."), "control_change")
    assert e.mention.place.name.startswith("Daray")
    assert e.from_actor == ("opposition",) and e.to_actor == ("syrian_government",)


def test_a_bombing_without_a_named_author_stays_unattributed(extract):
    e = only(extract("A car bomb exploded in Azaz, killing at least eight people."), "attack")
    assert e.actor == () and e.fatalities == 8


def test_lexicon_scanner_finds_what_finditer_finds():
    # the scanner tries each row only where one of its literal prefixes occurs: check it
    # gives every row's finditer matches exactly, on phrases of every row and on prose
    import re as _re
    from importlib import resources
    from geoevents.lexicons import lexicon, lower
    from geoevents.resolver import _masked_scan
    lex = lexicon()
    texts = ["car bomb", "airstrike", "air strikes", "advancing toward", "took control of",
             "fell to", "withdrew from", "hayat tahrir al-sham", "government forces",
             "the islamic state", "barrel bombs", "shelling", "Syrian, Russian and Iranian "
             "jets struck; the U.S.-led coalition and Hay'at Tahrir al-Sham fought on."]
    demo = resources.files("geoevents") / "demo"
    texts += [f.read_text(encoding="utf-8") for f in demo.iterdir() if f.name.endswith(".md")]
    for scanner in (lex.document_scan, lex.sentence_scan, _masked_scan()):
        for text in map(lower, texts):
            for rx, found in zip(scanner.patterns, scanner.finditer(text)):
                assert [m.span() for m in found] == [m.span() for m in rx.finditer(text)], \
                    (rx.pattern[:40], text[:40])
        # the groups' alternation, tried only where a group's prefix starts
        alternation = _re.compile("|".join(f"(?:{rx.pattern})" for rx in scanner.patterns))
        for text in map(lower, texts):
            assert [m.span() for m in scanner.first_of(text)] == \
                [m.span() for m in alternation.finditer(text)], text[:40]


def test_literal_prefixes_cover_every_way_a_pattern_can_start():
    import re as _re
    from geoevents.lexicons import literal_prefixes
    assert literal_prefixes(_re.compile(r"\b(?:(?<!an )abandoned|counter[- ]?attacks?)")) == \
        {"abandone", "counter-", "counter ", "countera"}
    assert literal_prefixes(_re.compile(r"\b(?:x?yz|\w+ly)")) is None   # \w may start it
    assert literal_prefixes(_re.compile(r"abc", _re.I)) is None
    # an optional group: matches start with or without it, and both prefixes keep growing
    assert literal_prefixes(_re.compile(r"\b(?:(?:the )?coalition of)")) == \
        {"the coal", "coalitio"}


def test_clashes_between_two_named_sides(extract):
    e = only(extract("HTS leads the alliance. Clashes between HTS and Ahrar al-Sham erupted in "
                     "Saraqeb."), "clash")
    assert e.actor == ("hts",) and e.target == ("opposition",)   # a named faction stays itself


def test_a_place_after_a_compass_locator_is_not_the_captured_one(extract):
    evs = extract("Troops captured the village of Khalasah south of Aleppo.")
    assert [e.mention.text for e in evs if e.type == "control_change"] in ([], ["Khalasah"])


def test_one_sense_per_spelling_not_per_key(extract):
    evs = extract("Rebels in Daraa surrendered. Opposition factions withdrew from Daraya.")
    e = only(evs, "control_change")
    assert e.mention.place.name.startswith("Daray")


def test_generic_rebels_are_a_named_force_only_when_the_text_says_so(extract):
    e = only(extract("Turkish-backed forces advanced. Rebels captured Khan Tuman."),
             "control_change")
    assert e.actor == ("opposition",)
    e = only(extract("The offensive, spearheaded by the Syrian National Army, grew. "
                     "Rebels captured Khan Tuman."), "control_change")
    assert e.actor == ("sna",)


def test_a_date_is_not_a_toll(extract):
    e = only(extract("Helicopters dropped barrel bombs on Darayya on 14 November 2016, "
                     "killing 7 people."), "airstrike")
    assert e.fatalities == 7 and e.date == date(2016, 11, 14)


def test_a_ministry_speaking_for_its_own_aircraft(extract):
    e = only(extract("The Russian defence ministry denied that its aircraft had struck a "
                     "hospital in Maarat al-Numan."), "airstrike")
    assert e.actor == ("russia",) and e.status == "disputed"


def test_withdrawal_cedes_to_the_side_named_in_the_sentence(extract):
    e = only(extract("SDF fighters pulled out of Manbij on Monday as Turkish-backed forces "
                     "advanced."), "control_change")
    assert e.from_actor == ("sdf",) and e.to_actor == ("sna",)


def test_a_participle_clause_shares_the_main_subject(extract):
    e = only(extract("Government forces split the enclave on Sunday after capturing Misraba."),
             "control_change")
    assert e.actor == ("syrian_government",) and e.mention.text == "Misraba"


def test_civilian_tolls_target_civilians(extract):
    e = only(extract("More than 1,100 civilians have been killed in Eastern Ghouta, the "
                     "Observatory said."), "casualties")
    assert e.fatalities == 1100 and e.target == ("civilians",)


@pytest.mark.parametrize("sentence,place,to_actor,from_actor", [
    ("Rebels were driven out of Maarat al-Numan on Tuesday.", "Maarat al-Numan",
     ("syrian_government",), ("opposition",)),
    ("Islamic State fighters were expelled from Baghouz by the SDF.", "Baghouz",
     ("sdf",), ("isis",)),
    ("Opposition factions surrendered Daraa under a deal.", "Daraa",
     ("syrian_government",), ("opposition",)),
    ("The SDF handed over Manbij to Russian military police.", "Manbij", ("russia",), ("sdf",)),
])
def test_ceding_phrasings(extract, sentence, place, to_actor, from_actor):
    e = only(extract(sentence), "control_change")
    assert (e.mention.text, e.to_actor, e.from_actor) == (place, to_actor, from_actor)


def test_the_counted_dead_are_victims_not_doers(extract):
    e = only(extract("At least seven Turkish soldiers were killed by Syrian shelling in "
                     "Saraqib."), "shelling")
    assert e.actor == ("syrian_government",) and e.target == ("turkey",) and e.fatalities == 7


def test_the_city_can_be_a_town_and_air_power_does_not_lose_ground(extract):
    e = only(extract("In Palmyra, Islamic State militants recaptured the city on Sunday "
                     "despite Russian air strikes."), "control_change")
    assert e.mention.place.name == "Palmyra"
    assert e.to_actor == ("isis",) and e.from_actor == ("syrian_government",)


def test_a_named_killer_before_the_toll(extract):
    e = only(extract("Reports said pro-government forces killed at least 82 civilians in "
                     "four neighbourhoods of Aleppo."), "casualties")
    assert e.actor == ("syrian_government",) and e.target == ("civilians",) and e.fatalities == 82


@pytest.mark.parametrize("sentence,status", [
    ("Rebels said they had captured Saraqib, a claim that could not be independently verified.",
     "claimed"),
    ("Unconfirmed reports said government troops had pulled out of Saraqib.", "claimed"),
    ("The Syrian army confirmed that it had withdrawn from Saraqib.", "confirmed"),
])
def test_an_unverified_claim_is_not_confirmed(extract, sentence, status):
    assert only(extract(sentence), "control_change").status == status


def test_claiming_responsibility_is_not_reporting(extract):
    e = only(extract("Islamic State claimed responsibility for an ambush near Sukhnah that "
                     "killed nine soldiers."), "attack")
    assert e.actor == ("isis",) and e.fatalities == 9


# -- reporting of 2016-2020: ISIS fronts, Turkish operations, pro-government militias --------

def test_the_agent_of_another_participle_is_not_the_doer(extract):
    e = only(extract("US-backed Syrian Democratic Forces captured Raqqa's stadium on Tuesday, "
                     "the last pocket held by Islamic State in the city."), "control_change")
    assert e.actor == ("sdf",) and e.from_actor == ("isis",)


def test_rebels_fighting_islamic_state_take_it_as_their_opponent(extract):
    evs = extract("Turkish-backed Syrian rebels said on Thursday they had taken full control "
                  "of al-Bab, Islamic State's last stronghold in the province. "
                  "The rebels also captured Qabasin.")
    first, second = [e for e in evs if e.type == "control_change"]
    assert first.actor == ("sna",) and first.from_actor == ("isis",)   # the speaker acts
    assert second.from_actor == ("isis",)      # the document's enemy, not the usual one


def test_an_actor_named_as_the_cause_of_a_toll_is_the_doer(extract):
    e = only(extract("At least 12 civilians were killed in Turkish air strikes on al-Bab."),
             "airstrike")
    assert e.actor == ("turkey",) and e.fatalities == 12
    e = only(extract("An air strike killed seven Turkish soldiers near Saraqib."), "airstrike")
    assert "turkey" not in e.actor and e.target == ("turkey",)


def test_allies_joined_by_a_possessive_act_together(extract):
    e = only(extract("Turkish forces and their Syrian rebel allies shelled Ras al-Ain."),
             "shelling")
    assert set(e.actor) == {"turkey", "opposition"}


@pytest.mark.parametrize("phrase,actor", [
    ("Fifth Corps fighters", "syrian_government"),
    ("The National Defence Forces", "syrian_government"),
    ("Wagner Group fighters", "russia"),
    ("Ankara-backed Syrian fighters", "sna"),
])
def test_militias_on_each_side(extract, phrase, actor):
    e = only(extract(f"{phrase} captured Maadan on Friday."), "control_change")
    assert e.actor == (actor,)


def test_a_withdrawal_cedes_once_per_side(extract):
    e = only(extract("HTS-led rebels had held the area for years. Government forces entered "
                     "Khan Shaykhun after jihadists and allied rebels pulled out of the town."),
             "control_change")
    assert e.from_actor == ("hts",)        # "jihadists" and the HTS-led "rebels": one side


def test_a_backer_is_not_the_doer(extract):
    evs = [e for e in extract("Government troops backed by Russian jets seized Busra al-Harir "
                              "and Nahta.") if e.type == "control_change"]
    assert [e.mention.text for e in evs] == ["Busra al-Harir", "Nahta"]
    assert all(e.actor == ("syrian_government",) for e in evs)


def test_handing_over_a_place_cedes_it(extract):
    e = only(extract("Rebels agreed on Friday to hand over the Nasib border crossing to "
                     "government forces."), "control_change")
    assert e.from_actor == ("opposition",) and e.to_actor == ("syrian_government",)


def test_the_object_right_after_the_trigger_is_the_target(extract):
    e = only(extract("Israeli jets struck a Syrian army position near Quneitra."), "airstrike")
    assert e.actor == ("israel",) and e.target == ("syrian_government",)
    e = only(extract("Rebels captured Ankara Street in Saraqib."), "control_change")
    assert e.target == ("syrian_government",)   # a street named after a capital: no target


def test_a_suicide_bomber_and_who_claimed_the_attack(extract):
    e = only(extract("A suicide bomber killed four people in Manbij, an attack claimed by "
                     "Islamic State."), "attack")
    assert e.mention.text == "Manbij" and e.actor == ("isis",)


def test_a_list_that_repeats_its_preposition(extract):
    evs = extract("Warplanes carried out air strikes on the outskirts of Idlib city and on "
                  "Ariha.")
    assert [e.mention.text for e in evs if e.type == "airstrike"] == ["Idlib", "Ariha"]


def test_a_state_speaking_of_its_troops_is_the_doer(extract):
    e = only(extract("Israel said its troops had entered the buffer zone on the Golan Heights."),
             "advance")
    assert e.actor == ("israel",)


def test_the_town_named_earlier_in_the_same_sentence(extract):
    e = only(extract("Rebels launched a counter-attack on Kafr Nabuda and retook the town from "
                     "government forces."), "control_change")
    assert e.mention.place.name == "Kafr Nabudah" and e.to_actor == ("opposition",)


@pytest.mark.parametrize("sentence,actor", [
    ("At least 40 people were killed in a suspected chemical attack on Douma.", ()),
    ("Pro-government militiamen opened fire on a convoy in Ramouseh.", ("syrian_government",)),
])
def test_attacks_that_are_not_offensives(extract, sentence, actor):
    e = only(extract(sentence), "attack")
    assert e.actor == actor


def test_us_backed_fighters_are_the_sdf(extract):
    e = only(extract("US-backed fighters advanced on al-Bukamal."), "advance")
    assert e.actor == ("sdf",)


def test_driving_a_force_out_of_a_place_captures_it(extract):
    e = only(extract("The YPG, backed by US-led coalition air strikes, drove Islamic State out "
                     "of Kobani."), "control_change")
    assert e.mention.text == "Kobani" and e.actor == ("sdf",) and e.from_actor == ("isis",)


def test_a_backing_that_is_itself_the_trigger_keeps_its_actor(extract):
    e = only(extract("Rebels, backed by Turkish air strikes on Tal Rifaat, advanced."),
             "airstrike")
    assert e.actor == ("turkey",)


def test_a_state_that_began_strikes_is_not_their_place(extract):
    evs = extract("Troops broke the siege of Kuweires airbase in November, their first big "
                  "gain since Russia began air strikes.")
    assert [(e.type, e.mention.text) for e in evs] == [("siege", "Kuweires airbase")]
    assert "Russia" not in {e.mention.text for e in extract("Russia began air strikes.")}


@pytest.mark.parametrize("sentence,n", [
    ("Russian jets struck Atarib on Nov. 29, killing a dozen people.", 12),   # not the date
    ("Government forces shelled Ariha, killing more than two dozen civilians.", 24),
    ("Air strikes on Idlib killed three hundred people.", 300),
    ("Russian jets struck Atarib, killing 1,200 people.", 1200),
    ("12 civilians, including five children, were killed in strikes on Sarmin.", 12),  # not the part
])
def test_tolls_in_words_multiples_and_after_dates(extract, sentence, n):
    e = [e for e in extract(sentence) if e.type in ("airstrike", "shelling")][0]
    assert e.fatalities == n


@pytest.mark.parametrize("sentence,expected", [
    ("Saraqib fell into the hands of the rebels on Monday.", ("control_change", ("opposition",))),
    ("Saraqib fell into rebel hands.", ("control_change", ("opposition",))),
    ("Government forces tightened the siege on Eastern Ghouta.", ("siege", ("syrian_government",))),
    ("An IED struck a military bus in Damascus.", ("attack", ())),     # the bomb, not jets
    ("Rebels pounded government positions in Mhardeh with artillery.", ("shelling", ("opposition",))),
    ("Jets pounded Idlib with missiles.", ("airstrike", ())),
])
def test_one_event_per_strike_and_its_instrument(extract, sentence, expected):
    e = only(extract(sentence))
    assert (e.type, e.actor) == expected


def test_taking_part_is_not_taking(extract):
    assert extract("Hezbollah fighters took part in the battle for Qusayr.") == []


@pytest.mark.parametrize("sentence,actor,target", [
    ("A Turkish military convoy was struck by an air strike near Maar Hitat.",
     "syrian_government", "turkey"),
    ("A Russian air base at Hmeimim came under drone attack.", "opposition", "russia"),
    ("Syrian army positions came under heavy rocket fire in Saraqib.", "opposition",
     "syrian_government"),
    ("Government positions near Kafr Nabl were shelled by rebels.", "opposition",
     "syrian_government"),
])
def test_the_subject_that_undergoes_a_strike_is_its_target(extract, sentence, actor, target):
    e = only(extract(sentence))         # "was struck by an air strike" is one strike
    assert (e.actor, e.target) == ((actor,), (target,))
