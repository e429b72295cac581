from bot.language import clean_text, detect_language


def test_mostly_chinese_is_chinese_even_with_a_brand_name():
    assert detect_language("我的iPhone订单到哪了") == "zh"
    assert detect_language("退款 refund") == "zh"


def test_english_is_english():
    assert detect_language("Where is my order?") == "en"
    assert detect_language("my order 号码 is 12345 and it never arrived at all") == "en"


def test_no_letters_falls_back_to_what_we_know_about_the_customer():
    assert detect_language("😀😀", fallback="zh") == "zh"
    assert detect_language("12345 !!!", fallback="en") == "en"


def test_clean_text_drops_control_and_zero_width_characters_and_collapses_space():
    assert clean_text("  where\u200b is\x00 my\t\torder \u3000 ") == "where is my order"
    assert clean_text("\x07\x1b") == ""


def test_a_name_in_the_other_script_does_not_switch_the_language():
    assert detect_language("how do I pay with 支付宝") == "en"
    assert detect_language("can i top up in 微信", fallback="zh") == "en"
    assert detect_language("what's the price of the 石子通信 unlimited plan") == "en"
    assert detect_language("用Apple Pay可以吗", fallback="en") == "zh"
    assert detect_language("我的iPhone 15 Pro Max不能用eSIM", fallback="en") == "zh"
