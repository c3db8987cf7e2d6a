"""Common given names (English-speaking, European, South Asian, African, East Asian, Arabic), lower case.

Used by :mod:`app.core.privacy.names`: a capitalised word from this list followed by a capitalised
surname is a person even where the language model is unsure ("to Marcus Hale"), and a given name
on its own is one unless it is also an ordinary word or place (:data:`AMBIGUOUS`: "Grace", "Holly",
"Victoria"), which then needs a surname, a title or a cue. Written for Sanctum; not exhaustive.
"""

from __future__ import annotations


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


FIRST_NAMES = _words("""
aaron abdul abdullah abigail abimbola ada adam adaeze adebayo adele adrian agnes agnieszka ahmed aidan aileen
aisha aisling alan albert alberto aleksander alex alexander alexandra alexei alfie alfred ali alice alicia alison
amara amelia amir amit amy ana anastasia andrea andreas andrew andrzej aneesa angela angus anika anil anita ann
anna annabel anne anneliese annie anthony anton antonio anya archie arjun arthur aryan asha ashley aurelia ava
ayesha barbara barry bartholomew beatrice ben benjamin bernard beryl bethany betty bianca bilal bill bob bogdan
brendan brian bridget bruno bryony caitlin callum cameron camille carl carla carlos carmen carol caroline
catherine cecilia charles charlie charlotte chen chidi chinedu chioma chloe chris christina christine
christopher chukwuemeka ciara claire clara clare claudia colin connor conor craig cristina dafydd daisy dan
daniel daniela danielle darius darren david dean declan deepak denis dennis derek desmond diana diego dimitri
dmitri dominic donald doreen dorothy douglas duncan dylan edith edna edward eileen elaine eleanor elena eliza
ella ellie emily emma enrique eric erin ernest esther ethan eugene eva evelyn ewan fatima felix fernando
finlay finn fiona florin frances francesca francis frank fraser freya gabriel gareth gary gavin gemma george
georgia gerald gillian giovanni giulia giuseppe gordon graham gregory gwen hamid hamish hana hannah harold
harriet harry hassan hayley heather hector helen helena henry hilary hiroshi hugh hugo ian ibrahim ifeoma igor
imran ingrid irene isaac isabel isabella isla ivan jack jacob jacqueline james jamie jan jane janet janice
jasmine jason javier jayden jean jennifer jeremy jessica jill joan joanna joanne jodie joe johan johannes john
jonathan jonas jordan jorge jose josé joseph joshua joyce juan judith julia julian julie justin kamal karen
karim karl kate katherine kathleen katie kayleigh keisha keith kelly kenneth kerry kevin khalid kieran kim
kirsty kofi kwabena kwame kyle lakshmi lars laura lauren leah lee leila leon leonard leo liam lina linda lisa
liz lorna louis louise lucas lucia lucy luis lukas luke lynn magdalena mahmoud malcolm marco marek margaret
maria marian marie marina mario mark martha martin mary matteo matthew matthias maureen max maya megan mehmet
mei melanie melissa michael michelle miguel mike mikhail mohammed mohammad molly monica muhammad nadia naomi
natalia natasha nathan neil niall nicholas nicola nikhil nina noah norman nuala oliver olivia omar oscar
oskar owen pablo pamela patricia patrick paul paula pauline pedro peter philip philippa pieter pierre pooja
priya priyanka rachel rafael rahul raj rajesh ravi rebecca reza rhiannon rhys richard rita robert robin
roger roman ronald rosa rosemary ross roy ruby rupert ruth ryan sabrina sally samantha samuel sandra sanjay
sara sarah scott sean sebastian sergei shane sharon sheila shirley simon sinead siobhan sofia sophie stanley
stefan stephanie stephen steven stuart susan suzanne sven tanya tariq terence terrence thomas tim timothy
tobias tom tomasz tony tracey trevor tyler ursula usman valentina valerie vanessa victor vikram vincent
violet vivian vladimir walter wayne wendy william winifred wojciech xavier yasmin yusuf yuki zainab zara zoe
aoife cathal ciaran colm deirdre eamon eamonn fergus grainne niamh oisin padraig roisin saoirse seamus sean
eilidh morag ailsa catriona kirsteen lachlan murdo torquil euan iain alasdair rory mhairi
""")

#: Given names that are also ordinary words, places or ward names: never a person on their own.
AMBIGUOUS = _words("""
albert amber april angel autumn bill brook charity christian daisy dawn dean faith florence grace heather holly
hope iris ivy jack jade joy june lee mark may melody miles ray rose rowan ruby victoria violet will summer
elizabeth stanley mason marcus chase frank guy august sterling sunny
""")
FIRST_NAMES = FIRST_NAMES | AMBIGUOUS
