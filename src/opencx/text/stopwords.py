"""Compact stop-word lists per language, written for OpenCX (no third-party list, no licence).

Function words, auxiliaries, pronouns, negators and the fillers of feedback ("very", "just",
"ok", "thanks"): words that never name what a customer writes about. Both a word's surface form
and its lemma are looked up, so a list holds base forms and the frequent inflected ones.
"""

from __future__ import annotations

from functools import cache

_LISTS = {
    "en": """
        a about above after again against all almost also although always am an and another any
        anyone anything are around as at back be because been before being below between both but
        by can cannot could did do does doing done down during each either else enough even ever
        every few for from further get got had has have having he her here hers herself him himself
        his how however i if in into is it its itself just least less let like made make many may
        me might more most much must my myself never no nor not now of off often on once one only
        or other our ours ourselves out over own per quite rather really same see she should since
        so some something still such than that the their theirs them themselves then there these
        they thing this those though through to too under until up upon us very was we well were
        what when where whether which while who whom whose why will with within without would yet
        you your yours yourself yourselves ok okay yes thanks thank please hi hello dear regards
        n't s t d ll re ve m also already i'm i've i'll i'd it's that's there's don't didn't doesn't won't can't couldn't wasn't isn't aren't
        cheers morning afternoon sir madam kind best hey hiya greetings team
    """,
    "nl": """
        aan al alle alleen als alsof altijd ander andere anders ben bij binnen bovendien daar daarna
        daarom dan dat de deze die dit doch doen door dus echter een eens eigen elk elke en enig
        enkele er erg even ga gaan gaat gedaan geen gehad geweest geworden had hadden heb hebben
        heeft hem het hier hij hoe hun ik in is ja je jij jou jouw jullie kan kon konden kun kunnen
        kunt laten maar me meer men met mij mijn moest moet moeten mogen na naar nee niet niets nog
        nu of ofwel om omdat ons onze ook op over pas per reeds rond sinds sommige te tegen toch toen
        tot tussen u uit uw van veel via voor vooral vrij waar waarom wanneer want was waren wat we
        wel welk welke werd werden wie wij wil willen worden wordt zal ze zei zelf zich zij zijn zo
        zoals zonder zou zouden zullen heel echt wel beetje hoor oke ok bedankt dank dankjewel
        graag hallo hoi groet groeten mvg iets iemand elk nooit soms weer hebben zijn worden doen
        gaan komen kwam komt word krijg kregen krijgen gekregen toe mee zeer best moeten kunnen
        willen zullen mogen goedemorgen goedemiddag goedenavond goedendag geachte heer mevrouw
        groetjes beste alvast thx hé
    """,
    "pl": """
        a aby ach albo ale ani aż bardzo bez bo być był była byli było będzie będą co coś czy czyli
        dla do dlaczego dlatego gdy gdyż gdzie go i ich ile im inne inny iż ja jak jaka jakie jaki
        jako je jednak jego jej jest jestem jeszcze jeśli jeżeli już ją każdy kiedy kto która które
        którego której który których ku lub ma mam mi mnie mną mogą może można mój moja moje mu my
        na nad nam nas nasz nasza nasze nawet nic nich nie niech niego niej niż no o od około on ona
        one oni ono oraz po pod ponieważ przed przez przy sam się skąd są ta tak taka takie taki
        tam te tego tej ten teraz też to tobie toteż tu tutaj twoj ty tylko tym u w we więc wszyscy
        wszystko wszystkie z za zawsze ze że żeby mieć mój twój swój który ten być móc chcieć
        zostać bardzo trochę naprawdę ok okej dzięki dziękuję dziękujemy proszę cześć dzień dobry
        pozdrawiam pan pani państwo coś ktoś nigdy czasem jeszcze już potem wtedy tez też musieć
        mój swój cały witam witać szanowni szanowny serdecznie pozdrowienia hej
    """,
    "de": """
        aber alle als also am an auch auf aus bei bin bis bist da damit dann das dass dein deine dem
        den der des die dies diese dieser doch dort du durch ein eine einem einen einer es etwas für
        hab habe haben hat hatte hatten ich ihm ihn ihr im in ist ja jetzt kann kein keine können
        mein meine mich mir mit muss nach nicht noch nur ob oder schon sehr sein sich sie sind so
        über um und uns unser von vor war waren was weil wenn werden wie wir wird wurde zu zum zur
        danke bitte hallo gut ok
    """,
    "fr": """
        à au aux avec avoir ce ces cet cette dans de des du elle elles en est et être eu il ils je
        la le les leur lui ma mais me même mes moi mon ne ni nous on ou où par pas pour qu que qui
        sa se ses si son sont sur ta te tes toi ton très tu un une vos votre vous y c j l m n s t
        merci bonjour ok été était fait faire plus
    """,
    "es": """
        a al algo como con de del el ella ellos en era es esta este esto estoy fue ha han hay la las
        le les lo los me mi muy más nada ni no nos o para pero por que qué se ser si sin sobre su
        sus también te tiene todo tu un una uno y ya yo gracias hola ok estar haber tener hacer
    """,
    "it": """
        a ad al alla alle anche che chi ci come con da del della delle di e è ed era gli ha hanno
        ho i il in io la le lei lo loro lui ma mi mio molto ne nel nella no non noi o per più poi
        quando questo se si sono su sua suo ti tu un una uno vi grazie ciao ok essere avere fare
    """,
    "pt": """
        a ao aos as até com como da das de do dos e ela ele eles em era essa esse esta este eu foi
        há isso já la lhe mais mas me meu minha muito na nas não nem no nos o os ou para pela pelo
        por que se sem ser seu sua também te tem um uma você obrigado obrigada olá ok estar ter
    """,
    "sv": """
        alla att av bara de dem den det du efter en ett för från har hade han hon i inte jag kan
        man med mig min mitt mycket ni nu när och om på sig sin som så till under upp ut var vi vid
        vad är åt över tack hej ok vara ha bli
    """,
    "da": """
        af alle at bare da de dem den der det du efter en er et for fra har havde han hun i ikke
        jeg kan man med meget mig min mit nu når og om på se sig sin som så til ud var vi ved være
        tak hej ok have blive
    """,
    "fi": """
        ei eikä ja jo joka jos kanssa kuin kun me mikä minä mitä mutta myös ne niin nyt ole olen
        oli olla on ovat se sen siitä sinä tai tämä te he hän vain vielä kiitos hei ok
    """,
    "cs": """
        a aby ale ani ano asi by byl byla bylo být co či do i jak jako je jeho jejich jen jsem jsme
        jsou k kde když který která které mi mít mně mu my na nad ne nebo neboť něco není o od po
        pod pro proto protože s se si sice tak také taky tam ten to tu ty u už v ve velmi více však
        z za ze že děkuji díky ahoj ok
    """,
}


@cache
def stop_words(language: str) -> frozenset[str]:
    """The stop words of a language; for an unknown language, those of every language."""
    if language in _LISTS:
        return frozenset(_LISTS[language].split())
    return frozenset(word for words in _LISTS.values() for word in words.split())


STOP_WORD_LANGUAGES = tuple(_LISTS)
