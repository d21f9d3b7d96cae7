"""Demo question bank: the municipal bank of olympiad training tasks kept by the ЦРО and shared with the
city's schools (imported from GIFT, as a methodologist would), with one embedded-answers question."""

from __future__ import annotations

from lms.assessment import banks

OLYMPIAD_GIFT = r"""// Муниципальный банк заданий для подготовки к школьному этапу ВсОШ
$CATEGORY: Математика/5–6 классы

::Дроби::Какая из дробей больше?{=3/4#Верно\: 3/4 \= 0,75 ~2/3#2/3 ≈ 0,67 ~5/8#5/8 \= 0,625}

::Периметр::Периметр квадрата 24 см. Чему равна его сторона, в сантиметрах?{#6:0}

::Чётность::Сумма двух нечётных чисел всегда чётна.{T#Подумайте\: 1 + 3 \= 4#Верно}

$CATEGORY: Физика/7 класс

::Единица силы::Как называется единица силы в СИ?{=ньютон =%50%Н#Полностью: ньютон}

::Учёные::Сопоставьте открытие и учёного.{=Закон всемирного тяготения -> Ньютон =Закон Архимеда -> Архимед =Закон Ома -> Ом}

::Скорость::Автомобиль проехал 120 км за 1,5 часа. Его средняя скорость, км/ч?{#80:0.5####Скорость \= путь / время.}

$CATEGORY: Русский язык/Орфография

::Пропущенная буква::В слове «к_рова» пропущена буква {~а =о ~е}.

::Эссе о языке::Напишите 5–7 предложений о том, почему важно писать грамотно.{}
"""

CLOZE = ("В слове «ра{1:MULTICHOICE:=с~з}сказ» пишется одна «с»; корень слова «подъезд» — "
         "{1:SHORTANSWER:=езд#Верно~%50%ъезд#Твёрдый знак — разделительный, он не входит в корень}.")


def load_banks(orgs: dict, users: dict) -> None:
    methodologist = users["methodologist"]
    bank = banks.create_bank(name="Олимпиадная подготовка: муниципальный банк", organization=orgs["cro"],
                             by=methodologist, description="Задания для подготовки к школьному этапу ВсОШ.")
    banks.import_questions(bank, OLYMPIAD_GIFT.encode(), "gift", by=methodologist, dry_run=False)
    banks.add_question(bank, {"qtype": "cloze", "text": CLOZE}, by=methodologist, name="Состав слова",
                       category=banks.category_path(bank, "Русский язык/Орфография"), subject="Русский язык",
                       grade=6, difficulty="medium", tags=["ВсОШ", "морфемика"])
    banks.share(bank, [orgs[code].id for code in ("school1", "gym3", "lyceum6")], by=methodologist)
