# ruff: noqa: E501  (reply patterns: one reply per line reads and diffs better than wrapped strings)
"""Seed tickets for the demo shop's support desk, written by the project.

A shop that has no ticket history still needs its triage fitted and its model
taught how a reply to each kind of ticket looks. These rows give both, in the
Bitext CSV shape (``instruction, intent, category, response, entity_type,
entity_value``) that ``oscar_llm_train --support`` reads, so they can be used
alone or next to the public Bitext file.

- **Messages** cover every intent the triage knows (the 27 Bitext intents). Each
  intent has hand-written phrasings with slots (an order reference, an item, a
  city, a country); the rows fill the slots and vary the writing the way
  customers do: lower case, typos and chat spelling, a short "wheres my parcel",
  a long polite message, a signature. Everything is derived from a seeded
  ``random.Random`` per row, so the same rows come out on every machine.
- **Replies** are grounded in the demo knowledge articles (:mod:`.knowledge_base`:
  30-day returns, refunds within 5 to 10 business days, delivery times and
  costs, payment methods, the contact lines) and state nothing else. Facts the
  shop fills in are ``{{Placeholder}}`` slots (``{{Order Number}}``,
  ``{{Customer Support Phone Number}}``, ``{{Order History}}``...), exactly the
  names ``support.facts`` resolves, so every reply passes the draft checks
  against those articles (a test holds them to it).

A message that names an order carries its number as the ``order_id`` entity and
gets a reply about that order; a signed message carries the name as the
``person_name`` entity and gets a greeting with ``{{Customer Name}}``.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Rows per intent. More rows raise the triage fitted on the seed alone, but next to the public Bitext
# tickets they start to outweigh them: on the held-out Bitext split, 24 rows give 0.844 alone and
# 0.9936 with Bitext (Bitext alone: 0.9920); 40 rows give 0.874 alone but 0.9904 with Bitext.
ROWS_PER_INTENT = 24
FIELDS = ("instruction", "intent", "category", "response", "entity_type", "entity_value")


@dataclass(frozen=True)
class IntentSeed:
    """What customers write for one intent and how the shop answers."""

    category: str
    asks: tuple[str, ...]
    replies: tuple[str, ...]
    # Replies for a message that names an order (``{{Order Number}}`` is filled from it).
    order_replies: tuple[str, ...] = ()
    # (pattern, reply): a message matching the pattern gets that reply instead (unsubscribe vs subscribe).
    special: tuple[tuple[str, str], ...] = field(default=())


INTENTS: dict[str, IntentSeed] = {
    "cancel_order": IntentSeed(
        category="ORDER",
        asks=(
            "I want to cancel {order}",
            "how do I cancel {order}?",
            "please cancel {order}, I ordered the wrong {item}",
            "can I still cancel {order}? I only placed it this morning",
            "cancel {order} please",
            "I changed my mind about the {item}, could you cancel {order}?",
            "is it too late to cancel {order}",
            "I need to cancel {order} asap",
            "I'd like to cancel {order} before it ships",
            "help me cancel {order}",
            "where do I cancel an order? I can't find a cancel button",
            "please cancel {order}, I placed it twice by accident",
            "don't send {order}, I want to cancel it",
            "what's the process for cancelling {order}?",
            "I no longer need the {item}, cancel {order}",
        ),
        replies=(
            "You can cancel an order free of charge until it is dispatched, and there is no cancellation fee. Open {{Support}} in your account, choose the order and ask us to cancel it; a member of the team confirms the cancellation by e-mail. Once an order has been dispatched it can no longer be cancelled, but you can return it within 30 days of delivery.",
            "Orders can be cancelled until they are dispatched, with no cancellation fee. Send us a ticket about the order from {{Support}} in your account and we will cancel it and confirm by e-mail. Cancelled orders are refunded to the original payment method within 5 to 10 business days.",
        ),
        order_replies=(
            "Thank you for letting us know. We will cancel order {{Order Number}} if it has not been dispatched yet, free of charge, and a member of the team confirms the cancellation by e-mail. Cancelled orders are refunded to the original payment method within 5 to 10 business days. If it has already been dispatched, you can return it within 30 days of delivery instead.",
            "I'm sorry you no longer need order {{Order Number}}. As long as it has not been dispatched, we can cancel it free of charge; there is no cancellation fee. A member of the team will confirm the cancellation by e-mail, and the payment is refunded to the original payment method within 5 to 10 business days.",
        ),
    ),
    "change_order": IntentSeed(
        category="ORDER",
        asks=(
            "I need to change the size of the {item} in {order}",
            "can I add another item to {order}?",
            "I want to remove the {item} from {order}",
            "I ordered the wrong colour {item}, can I swap it in {order}?",
            "please change the quantity in {order} to 2",
            "how do I modify {order}?",
            "can I edit {order} after paying?",
            "I'd like to update {order}, the {item} should be a medium not a small",
            "is it possible to make changes to {order}",
            "wrong size ordered, can you change it before it ships",
            "I want to exchange the {item} for a different size",
            "could you swap the {item} in {order} for the black one",
            "help me change {order}",
            "I need to amend {order}",
            "can I change the colour of the {item} I just ordered",
            "I want to delete an item from {order}",
            "take the {item} out of {order} please",
            "can I add or remove products in {order}",
            "I need to modify the items in my purchase",
        ),
        replies=(
            "You can change an order that has not been dispatched yet (a size, a colour or the quantity): tell us in a ticket about that order what you would like to change. Once an order has been dispatched, use an exchange instead: you can exchange an item for another size or colour of the same product within 30 days of delivery.",
            "As long as an order has not been dispatched, we can change a size, a colour or the quantity for you; just tell us which order and what should change. After dispatch, you can exchange an item for another size or colour within 30 days of delivery, and exchanges within the UK are free.",
        ),
        order_replies=(
            "Thank you for your message about order {{Order Number}}. If it has not been dispatched yet, we can still change a size, a colour or the quantity: please reply with the change you would like and a member of the team will update the order. If it has already been dispatched, you can exchange the item for another size or colour within 30 days of delivery.",
            "We can change order {{Order Number}} as long as it has not been dispatched. Please tell us which item, size, colour or quantity you would like instead. Once the order has arrived, you can still exchange an item within 30 days of delivery: we dispatch the new item when we receive the original.",
        ),
    ),
    "change_shipping_address": IntentSeed(
        category="SHIPPING_ADDRESS",
        asks=(
            "I put the wrong address on {order}, can I change it?",
            "how do I change the delivery address for {order}",
            "please update the shipping address on {order}, I've moved to {city}",
            "can you send {order} to my work address instead",
            "I made a typo in my postcode on {order}",
            "change my shipping address",
            "I need to correct the address of {order}",
            "is it possible to change where {order} is being delivered?",
            "the address on {order} is my old flat, please change it",
            "how can I edit the shipping address of an order I already placed",
            "wrong address!! can you fix it for {order}",
            "I want {order} delivered to {city} instead of my home address",
            "update delivery address",
            "I need {order} to go to a different address",
        ),
        replies=(
            "To change the shipping address of an order that has not been dispatched yet, send us a ticket about that order with the new address and we will update it. Once an order has been dispatched its address can no longer be changed. For future orders you can save addresses in the {{Address Book}} of your account and pick one at checkout.",
            "We can change the address of an order until it is dispatched: tell us which order it is and the full new address. Once an order has been dispatched its address can no longer be changed. Please note that we do not deliver to PO boxes or parcel lockers.",
        ),
        order_replies=(
            "Thank you for letting us know. Order {{Order Number}}, placed on {{Order Date}}, has the status: {{Order Status}}. If it has not been dispatched yet, we can still change its shipping address: please reply with the full new address and a member of the team will update it. Once an order has been dispatched its address can no longer be changed.",
            "We can update the address of order {{Order Number}} as long as it has not been dispatched. Please send us the correct address in this ticket. Please note that we do not deliver to PO boxes or parcel lockers.",
        ),
    ),
    "check_cancellation_fee": IntentSeed(
        category="CANCELLATION_FEE",
        asks=(
            "is there a fee to cancel an order?",
            "how much does it cost to cancel {order}",
            "will I be charged if I cancel?",
            "do you charge a cancellation fee",
            "what's the penalty for cancelling early",
            "are there any charges for cancelling {order}?",
            "check cancellation fees",
            "if I cancel now, do I have to pay anything?",
            "I want to know about the cancellation charges before I cancel {order}",
            "is cancelling free?",
            "what would I lose if I cancelled {order}",
            "is there an early exit fee",
            "cancellation fee for {order}?",
            "do I get charged for cancelling an order after paying",
            "how much is the cancellation penalty",
            "what is the termination fee if I cancel an order",
            "are there withdrawal charges when I cancel a purchase",
        ),
        replies=(
            "There is no cancellation fee. You can cancel an order free of charge until it is dispatched: open {{Support}} in your account and ask us to cancel it. Once an order has been dispatched it can no longer be cancelled, but you can return it within 30 days of delivery.",
            "Cancelling an order costs nothing: there is no cancellation fee as long as the order has not been dispatched. Cancelled orders are refunded to the original payment method within 5 to 10 business days.",
        ),
        order_replies=(
            "There is no cancellation fee for order {{Order Number}}. If it has not been dispatched yet, we can cancel it free of charge and refund the payment to the original payment method within 5 to 10 business days.",
        ),
    ),
    "check_invoice": IntentSeed(
        category="INVOICE",
        asks=(
            "where can I see the invoice for {order}?",
            "I want to check my invoice",
            "can I view the invoice of {order} online",
            "how do I look at my invoices",
            "the amount on my invoice looks wrong, where can I check it?",
            "show me the bill for {order}",
            "where are my invoices in my account",
            "I need to check the VAT on the invoice for {order}",
            "can you help me find the invoice for {order}",
            "I can't find my invoice, where is it",
            "check invoice {order}",
            "is there a page where I can see all my invoices?",
            "I'd like to review the invoice for my purchase from last month",
            "how can I see what I was billed for {order}",
            "where can I see invoice {invoice}",
            "I want to take a look at invoice {invoice}",
            "can I check the bill for my last purchase",
        ),
        replies=(
            "You can see the invoice for every order in the {{Order History}} of your account. Every order comes with a VAT invoice, which we also e-mail when the order is dispatched.",
            "Every order comes with a VAT invoice. Open the {{Order History}} of your account and select the order to see its invoice; we also e-mail it when the order is dispatched.",
        ),
        order_replies=(
            "You can see the invoice for order {{Order Number}} in the {{Order History}} of your account; we also e-mailed it when the order was dispatched. If something on it looks wrong, tell us in this ticket and we will look into it.",
            "Every order comes with a VAT invoice. To check the invoice for order {{Order Number}}, open the {{Order History}} of your account and select the order. If you need it with a company name or a VAT number, let us know and we send it within one working day.",
        ),
    ),
    "get_invoice": IntentSeed(
        category="INVOICE",
        asks=(
            "could you send me an invoice for {order}?",
            "I need a copy of the invoice for {order}",
            "how do I download my invoice",
            "please email me the invoice for {order}, it's for my expenses",
            "can I get a VAT invoice with my company name for {order}?",
            "I never received an invoice for {order}",
            "get invoice for {order}",
            "I need a receipt for {order} for work",
            "can you resend the invoice for {order}",
            "where do I get an invoice with my company's VAT number",
            "need an invoice asap",
            "I lost the invoice for {order}, can I have another copy?",
            "how can I obtain an invoice for my last purchase",
            "I'd like a proper invoice for the {item} I bought",
            "can someone send me invoice {invoice}",
            "I need to download invoice {invoice}",
            "please get me a copy of invoice {invoice}",
        ),
        replies=(
            "Every order comes with a VAT invoice: we e-mail it when the order is dispatched, and you can see it in the {{Order History}} of your account. If you need an invoice with a company name or a VAT number, or a copy of an older invoice, send us a ticket with the order number and we send it within one working day.",
            "You can see the invoice for every order in the {{Order History}} of your account. For an invoice with a company name or a VAT number, tell us the order number in a ticket and we send it within one working day.",
        ),
        order_replies=(
            "Thank you for your message. We will send you the invoice for order {{Order Number}}, placed on {{Order Date}} for {{Order Total}}, within one working day. You can also see the invoice for every order in the {{Order History}} of your account.",
            "Of course. The VAT invoice for order {{Order Number}} is in the {{Order History}} of your account, and we also e-mail it when the order is dispatched. If you need a company name or a VAT number on it, reply with the details and we send a new copy within one working day.",
        ),
    ),
    "check_payment_methods": IntentSeed(
        category="PAYMENT",
        asks=(
            "what payment methods do you accept?",
            "can I pay with PayPal",
            "do you take American Express?",
            "which cards can I use to pay",
            "can I pay by bank transfer or only by card?",
            "is Apple Pay accepted",
            "what are my payment options",
            "do you accept Mastercard",
            "payment methods?",
            "I don't have a credit card, how else can I pay?",
            "can I pay in euros",
            "are there any fees for paying by card",
            "which ways of paying do you support",
            "can I use a debit card",
            "I want to check your payment options",
            "help me see which payment methods are available",
            "list the payment methods you accept",
        ),
        replies=(
            "We accept Visa, Mastercard, American Express and PayPal. Prices are in pounds sterling (GBP) and include VAT, and there are no payment fees. We charge your card when you place the order.",
            "You can pay with Visa, Mastercard, American Express or PayPal at the {{Checkout}}. There are no payment fees, and prices are in pounds sterling (GBP) including VAT.",
        ),
    ),
    "payment_issue": IntentSeed(
        category="PAYMENT",
        asks=(
            "my payment keeps getting declined",
            "I was charged twice for {order}",
            "the payment failed but the money left my account",
            "why was my card declined at checkout?",
            "I can't pay for my order, it says payment error",
            "there's a problem with the payment for {order}",
            "PayPal isn't working at checkout",
            "I've been charged but didn't get an order confirmation",
            "payment not going through",
            "help, my card was rejected",
            "I got an error when I tried to pay for the {item}",
            "the checkout won't accept my card even though it's valid",
            "you took money from my card twice",
            "I want to report a payment problem",
        ),
        replies=(
            "I'm sorry the payment did not go through. If a payment is declined, check that the billing address matches the address your bank has for the card, or try another payment method: we accept Visa, Mastercard, American Express and PayPal. We never ask for your card number by e-mail or in a ticket, so please do not send it to us.",
            "Sorry for the trouble at the {{Checkout}}. Please check that the billing address matches the address your bank has for the card, or pay with another method such as PayPal. If you were charged but received no order confirmation by e-mail, tell us in this ticket and we will look into it.",
        ),
        order_replies=(
            "Thank you for letting us know about the payment for order {{Order Number}}. A member of the team will check it and reply in this ticket. We charge your card once, when you place the order; please do not send us your card number by e-mail or in a ticket.",
        ),
    ),
    "check_refund_policy": IntentSeed(
        category="REFUND",
        asks=(
            "what is your refund policy?",
            "can I get a refund if the {item} doesn't fit?",
            "how many days do I have to return something",
            "do you refund shipping costs?",
            "what's your returns policy",
            "in which cases can I ask for a refund",
            "are sale items refundable",
            "can I return a {item} that I've worn once?",
            "do you offer refunds on earrings",
            "how does your money back policy work",
            "refund policy for international orders?",
            "if I return something from {country}, who pays the postage",
            "I want to read your refund terms before I order",
            "is there a time limit for refunds",
            "what are the rules for returning items",
            "what is your reimbursement policy",
            "in which situations can I get reimbursed",
            "do you have a money back guarantee",
        ),
        replies=(
            "You can return any item within 30 days of delivery; items must be unworn, unwashed and have their original tags. We refund returned items to the original payment method within 5 to 10 business days of receiving your return. Returns within the UK are free, and customers outside the UK pay for return postage.",
            "Our returns policy gives you 30 days from delivery to return an item. Once we receive it, we refund it to the original payment method within 5 to 10 business days. The original shipping cost is refunded when the whole order is returned within 14 days of delivery or when an item is faulty.",
        ),
    ),
    "get_refund": IntentSeed(
        category="REFUND",
        asks=(
            "I want a refund for {order}",
            "I'd like to return the {item} from {order} and get my money back",
            "how do I return an item and get refunded",
            "the {item} arrived damaged, I want a refund",
            "please refund {order}",
            "I sent back {order} and want my money back",
            "can I get a refund for the {item}, it's too small",
            "how do I send back {order}",
            "I want to return my {item}",
            "I need my money back for {order}",
            "request a refund",
            "the {item} I received is faulty, how do I return it?",
            "I would like to send back something from {order}, what do I do",
            "refund me please",
            "the {item} doesn't fit, can I return it for a refund",
            "I want to be reimbursed for {order}",
            "can you reimburse me for the {item}, it came broken",
            "I want a refund of £{amount} to my card",
            "I need to get my money back, the {item} is not what I ordered",
        ),
        replies=(
            "You can return any item within 30 days of delivery. Open {{Support}} in your account, choose the order and tell us which item you are returning; within the UK we send you a prepaid return label. We refund returned items to the original payment method within 5 to 10 business days of receiving your return.",
            "I'm sorry the item did not work out. Items can be returned within 30 days of delivery if they are unworn, unwashed and have their original tags. Once we receive your return, we refund it to the original payment method within 5 to 10 business days.",
        ),
        order_replies=(
            "Thank you for your message about order {{Order Number}} of {{Order Date}} ({{Order Total}}). You can return items within {{Return Window}} of delivery, and for UK returns we send you a prepaid return label. Once we receive the item, we refund it to the original payment method within {{Refund Time}}.",
            "I'm sorry the item from order {{Order Number}} did not work out. You can return it within {{Return Window}} of delivery: please make sure it is unworn, unwashed and has its original tags, and we will send you a prepaid return label. We refund returned items to the original payment method within {{Refund Time}} of receiving your return.",
        ),
    ),
    "track_refund": IntentSeed(
        category="REFUND",
        asks=(
            "where is my refund?",
            "I returned {order} two weeks ago and still haven't got my refund",
            "when will I get my money back for {order}",
            "has my refund been processed?",
            "check the status of my refund",
            "my refund for the {item} hasn't arrived yet",
            "how long does a refund take to show on my card",
            "you said you'd refund {order}, when will it come through",
            "track refund {order}",
            "is my refund on the way",
            "I'm still waiting for the refund for my return",
            "can you tell me if the refund for {order} has been sent",
            "the refund isn't on my bank statement yet",
            "any news on my refund for {order}?",
            "I'd like to check the status of my reimbursement",
            "has the money for {order} been returned to my card yet",
            "I need to check whether my refund of £{amount} was processed",
            "what is happening with my reimbursement",
            "can you give me an update on my refund",
            "I need information about the status of the money you owe me",
            "is there any news about the rebate for {order}",
        ),
        replies=(
            "We refund returned items to the original payment method within 5 to 10 business days of receiving your return, and we send an e-mail when your refund has been issued. You can also see it in the {{Order History}} of your account; your bank may take a few more days to show it.",
            "Refunds are issued within 5 to 10 business days of receiving your return, to the original payment method. We send an e-mail when your refund has been issued and it appears in the {{Order History}} of your account; your bank may take a few more days to show it.",
        ),
        order_replies=(
            "Thank you for your patience. The refund for order {{Order Number}} is issued to the original payment method within 5 to 10 business days of receiving your return, and we e-mail you when it has been issued. It also appears in the {{Order History}} of your account; your bank may take a few more days to show it.",
        ),
    ),
    "complaint": IntentSeed(
        category="FEEDBACK",
        asks=(
            "I want to make a complaint",
            "I'm really unhappy with how {order} was handled",
            "how do I file a complaint about your service",
            "your courier left my parcel in the rain, I want to complain",
            "this is the worst service I've had from a shop",
            "I'd like to lodge a formal complaint about {order}",
            "the {item} I got was nothing like the pictures, very disappointed",
            "I'm not happy with my order, who do I complain to",
            "complaint about {order}",
            "I have a complaint about one of your staff",
            "I've been waiting ages and nobody has helped me, this is unacceptable",
            "where can I raise a complaint",
            "very dissatisfied with the quality of the {item}",
            "I want to complain about the packaging of {order}",
        ),
        replies=(
            "I'm sorry to hear that something went wrong. Please tell us in this ticket what happened and which order it concerns. A team leader reviews every complaint and replies within two working days.",
            "Thank you for telling us, and I'm sorry for the experience. Every complaint is reviewed by a team leader, who replies within two working days. If you would rather speak to someone, call us on {{Customer Support Phone Number}} ({{Customer Support Hours}}).",
        ),
        order_replies=(
            "I'm sorry that order {{Order Number}} did not go as it should. A team leader reviews every complaint and replies within two working days; please add anything else you would like them to know in this ticket.",
        ),
    ),
    "review": IntentSeed(
        category="FEEDBACK",
        asks=(
            "I want to leave a review for the {item} I bought",
            "how can I write a review",
            "I'd like to give some feedback about your service",
            "where do I post a product review?",
            "I loved the {item}, can I leave feedback?",
            "can I rate the {item}",
            "I want to share my opinion on {order}",
            "do you publish customer reviews",
            "leave feedback",
            "how do I submit a review for something I bought",
            "I have some suggestions for your website",
            "just wanted to say the {item} is lovely, where can I review it",
            "I want to give my thoughts about your shop",
            "can I review the {item} from {order}",
        ),
        replies=(
            "Thank you, we welcome your feedback. You can write a review on the page of any product you have bought, and we publish it after a quick check for personal data.",
            "We would love to hear what you think. For a product, write a review on its page; for feedback about our service, send us a ticket, as every message is read by the team.",
        ),
    ),
    "contact_customer_service": IntentSeed(
        category="CONTACT",
        asks=(
            "how can I contact customer service?",
            "what's your phone number",
            "what are your customer service hours",
            "I need the email address of your support team",
            "how do I get in touch with you",
            "is there a number I can call",
            "when is customer support open?",
            "contact customer service",
            "do you have live chat",
            "what's the best way to reach your support team",
            "I need to contact you about {order}",
            "can you give me your contact details",
            "are you open on Saturdays",
            "who do I write to about {order}",
        ),
        replies=(
            "You can reach our customer support team by phone on {{Customer Support Phone Number}} or by e-mail at {{Customer Support Email}}. We are available {{Customer Support Hours}}, and we reply to tickets and e-mails within one working day.",
            "The quickest way to reach us is a support ticket from your account, like this one. You can also call {{Customer Support Phone Number}} or write to {{Customer Support Email}}; our hours are {{Customer Support Hours}}. During opening hours there is also live chat on our website.",
        ),
        order_replies=(
            "Thank you for getting in touch about order {{Order Number}}. A member of our team will reply in this ticket within one working day. If you prefer, call us on {{Customer Support Phone Number}} ({{Customer Support Hours}}).",
        ),
    ),
    "contact_human_agent": IntentSeed(
        category="CONTACT",
        asks=(
            "I want to speak to a real person",
            "can I talk to a human please",
            "get me a human agent",
            "I don't want a bot, let me talk to someone",
            "is there an actual person I can talk to about {order}",
            "I need to speak with an agent",
            "transfer me to a human",
            "can a member of staff call me",
            "speak to someone",
            "I'd like to talk to a customer service representative",
            "put me through to an operator please",
            "I want a person, not an automated answer",
            "human please",
            "let me speak to a manager about {order}",
        ),
        replies=(
            "Of course. A member of the team will take over your case and reply in this ticket. If you would like to speak to someone now, call us on {{Customer Support Phone Number}}, {{Customer Support Hours}}.",
            "I understand you would like to talk to a person. Every message is answered personally by our customer support team; you can also call {{Customer Support Phone Number}} during opening hours ({{Customer Support Hours}}) and a member of the team will take over your case.",
        ),
        order_replies=(
            "Of course. A member of the team will take over your case about order {{Order Number}} and reply here within one working day. You can also call us on {{Customer Support Phone Number}} ({{Customer Support Hours}}).",
        ),
    ),
    "create_account": IntentSeed(
        category="ACCOUNT",
        asks=(
            "how do I create an account?",
            "I want to sign up",
            "can I open an account with you",
            "I'd like to register on your website",
            "where is the sign up page",
            "can you help me make a new account",
            "create account",
            "do I need an account to order, and how do I get one",
            "how do I register as a new customer",
            "I want to set up an account for my wife",
            "open a new account",
            "what do I need to create an account",
            "I'm new here, how do I join",
            "how can I make an account on your shop",
            "I want to open a business account with you",
        ),
        replies=(
            "You can create an account with your e-mail address and a password from the {{Register}} link at the top of any page. An account keeps your {{Order History}}, your {{Address Book}} and your {{Profile}}.",
            "Creating an account takes a minute: use the {{Register}} link at the top of any page and enter your e-mail address and a password. If the e-mail address is already registered, use the password reset link on the login page instead.",
        ),
    ),
    "delete_account": IntentSeed(
        category="ACCOUNT",
        asks=(
            "please delete my account",
            "how do I close my account",
            "I want to remove my account and all my data",
            "can you cancel my account",
            "I no longer want an account with you",
            "delete account",
            "how can I get rid of my profile on your site",
            "what happens to my orders if I delete my account",
            "I'd like my account deactivated",
            "remove my details from your website",
            "close my account permanently",
            "how long does it take to delete an account",
            "I want to terminate my account",
            "erase my customer account please",
            "I want to delete my premium account",
        ),
        replies=(
            "We are sorry to see you go. To close your account, send us a support ticket and we delete it within 30 days. We keep order records for 6 years because tax law requires it.",
            "We can delete your account for you: reply in this ticket to confirm and we delete it within 30 days. Please note that we keep order records for 6 years because tax law requires it.",
        ),
    ),
    "edit_account": IntentSeed(
        category="ACCOUNT",
        asks=(
            "how do I change my email address?",
            "I want to update my name on my account",
            "can I edit my profile",
            "how do I change my password",
            "I need to update my account details",
            "where can I change my personal information",
            "edit account",
            "my surname has changed, how do I update it",
            "change the email on my account",
            "I want to modify my profile information",
            "how do I update my phone number on my account",
            "update my details please",
            "can I change my account username",
            "my email address on the account is old, how do I fix it",
            "I need to edit the details on my business account",
            "I want to change the details of my premium account",
            "modify the personal data on my account",
            "I would like to change some data in my profile",
        ),
        replies=(
            "You can change your name or e-mail address on the {{Profile}} page of your account. To change your password, use {{Change Password}} on the same page.",
            "To update your details, log in and open the {{Profile}} page of your account; there you can change your name and e-mail address, and use {{Change Password}} to set a new password.",
        ),
    ),
    "switch_account": IntentSeed(
        category="ACCOUNT",
        asks=(
            "how do I switch to another account?",
            "I have two accounts, how do I change between them",
            "can I switch my account to a business account",
            "I want to use a different account",
            "log me into my other account",
            "switch account",
            "how do I upgrade my account to premium",
            "can I move to a different account type",
            "I want to change to my work account",
            "how to swap accounts on your site",
            "I'm logged in with the wrong account, how do I switch",
            "can I change my account to a family account",
            "I want to go back to my old account",
            "can I switch to a VIP account",
            "I'd like to switch to the gold membership account",
            "move me from my personal account to the business one",
        ),
        replies=(
            "There is one type of customer account. To use a different e-mail address, log out and register again, or change the address on your {{Profile}} page.",
            "We have one type of customer account, so there is nothing to upgrade. If you would like to use another account, log out and log in with it; to move to a different e-mail address, change it on your {{Profile}} page.",
        ),
    ),
    "recover_password": IntentSeed(
        category="ACCOUNT",
        asks=(
            "I forgot my password",
            "how do I reset my password?",
            "I can't log in, I don't remember my password",
            "the password reset email never arrived",
            "recover password",
            "help me get back into my account",
            "I've lost my password",
            "locked out of my account, forgot the password",
            "can you send me a new password",
            "password reset please",
            "how do I recover my account, my password doesn't work",
            "the forgotten password link isn't working",
            "I need to set a new password, I can't remember the old one",
            "what do I do if I don't know my password",
        ),
        replies=(
            'If you have forgotten your password, use the "{{Forgot Password}}" link on the login page and we e-mail you a reset link. If the e-mail does not arrive, check that you use the e-mail address your account is registered with.',
            'No problem: on the login page, use the "{{Forgot Password}}" link and enter the e-mail address of your account, and we e-mail you a reset link. Once you are logged in again, you can change your password with {{Change Password}} on your {{Profile}} page.',
        ),
    ),
    "registration_problems": IntentSeed(
        category="ACCOUNT",
        asks=(
            "I can't register",
            "the sign up form keeps giving me an error",
            "registration isn't working",
            "it says my email is already registered but I don't have an account",
            "I tried to create an account but it failed",
            "problem with registration",
            "why can't I sign up?",
            "I never got the confirmation email after registering",
            "the register button does nothing",
            "error when signing up",
            "I'm having trouble creating an account",
            "your website won't let me register",
            "sign up problems",
            "registering fails every time I try",
        ),
        replies=(
            "I'm sorry registration did not work. Please check that the e-mail address is not already registered; if it is, use the password reset link on the login page. If registration still fails, tell us in this ticket what the page says and we will help.",
            'If the {{Register}} page says your e-mail address is already in use, you already have an account: use the "{{Forgot Password}}" link on the login page and we e-mail you a reset link.',
        ),
    ),
    "newsletter_subscription": IntentSeed(
        category="NEWSLETTER",
        asks=(
            "how do I subscribe to your newsletter?",
            "I want to unsubscribe from the newsletter",
            "please stop sending me emails",
            "sign me up for the newsletter",
            "I'd like to get your newsletter",
            "how do I cancel my newsletter subscription",
            "newsletter",
            "too many marketing emails, how do I stop them",
            "can I subscribe to news about new arrivals",
            "I keep getting your newsletter even though I unsubscribed",
            "how often do you send the newsletter",
            "subscribe me to your mailing list",
            "opt out of newsletter",
            "add my email to your newsletter",
        ),
        replies=(
            "You can subscribe to our newsletter on the {{Profile}} page of your account or at the checkout. It brings new arrivals and style notes once a week.",
        ),
        special=(
            (
                r"unsub|stop|opt out|cancel|too many|keep getting",
                "Every newsletter has an unsubscribe link at the bottom, and you can also unsubscribe on your {{Profile}} page. We never share your e-mail address with other companies.",
            ),
        ),
    ),
    "place_order": IntentSeed(
        category="ORDER",
        asks=(
            "how do I place an order?",
            "I want to buy the {item}",
            "can I order the {item} online",
            "how do I make a purchase on your website",
            "I'd like to order a {item}",
            "help me buy something",
            "place order",
            "how does ordering work",
            "can I order by phone",
            "I want to purchase the {item} in two colours",
            "what do I need to do to order",
            "I'm trying to buy the {item} but don't know how",
            "can you help me complete my purchase",
            "I want to make an order for the {item}",
            "how can I purchase some items from you",
        ),
        replies=(
            "To place an order, add the items to your {{Basket}}, go to the {{Checkout}}, choose a shipping address and method and pay. You receive an order confirmation by e-mail.",
            "Ordering is simple: add what you would like to your {{Basket}}, then go to the {{Checkout}}, choose a shipping address and method and pay with Visa, Mastercard, American Express or PayPal. We e-mail you an order confirmation.",
        ),
    ),
    "delivery_options": IntentSeed(
        category="DELIVERY",
        asks=(
            "what delivery options do you have?",
            "do you offer express delivery",
            "how much is shipping to {country}",
            "do you deliver to {country}?",
            "what shipping methods are available",
            "is delivery free?",
            "can I get next day delivery",
            "what are the shipping costs",
            "do you ship internationally",
            "delivery options",
            "can you deliver to a PO box",
            "what's the cheapest way to get my order delivered",
            "shipping options for {city}",
            "how much is standard delivery in the UK",
            "which couriers and delivery methods can I choose",
            "I'd like to know the shipping options",
            "can you help me see the delivery options",
            "I want to check which shipping methods you offer",
            "what are the options for delivery when I order",
            "which shipment methods do you have",
            "how can I see the available shipping methods",
            "I need help checking the delivery methods",
            "what kinds of shipping can I select",
        ),
        replies=(
            "We deliver to the United Kingdom, the European Union and most other countries. UK standard delivery costs £3.95 and is free on orders over £50; UK express delivery costs £7.95. EU delivery costs £12.50 and delivery to the rest of the world costs £19.50.",
            "You choose a shipping method at checkout and its cost is shown before you pay. UK express delivery costs £7.95 and arrives on the next working day after dispatch; UK standard delivery costs £3.95, or nothing on orders over £50. We do not deliver to PO boxes or parcel lockers.",
        ),
    ),
    "delivery_period": IntentSeed(
        category="DELIVERY",
        asks=(
            "how long does delivery take?",
            "how long will it take to get to {city}?",
            "when will {order} arrive",
            "how many days does shipping to {country} take",
            "what's the delivery time for express",
            "if I order today when will it arrive",
            "how long does delivery take to {city}",
            "estimated delivery time?",
            "when can I expect {order}",
            "how soon will I get my {item}",
            "delivery time to {country}",
            "will the {item} arrive by the weekend if I order now",
            "what time do you dispatch orders",
            "how long before {order} ships",
            "how many working days is standard delivery",
            "what's the ETA for {order}",
            "when does my shipment usually arrive after I pay",
        ),
        replies=(
            "Orders placed on a working day before 2pm UK time are dispatched the same day. UK standard delivery then takes 2 to 4 working days, and UK express delivery arrives on the next working day. EU delivery takes 5 to 8 working days and delivery to the rest of the world takes 7 to 14 working days.",
            "Delivery times start at dispatch: UK standard delivery takes 2 to 4 working days, UK express delivery arrives on the next working day, EU delivery takes 5 to 8 working days and the rest of the world 7 to 14 working days. Orders placed on a working day before 2pm UK time leave the same day.",
        ),
        order_replies=(
            "With UK standard delivery, orders arrive 2 to 4 working days after dispatch, and with UK express delivery on the next working day; EU delivery takes 5 to 8 working days. As soon as order {{Order Number}} is dispatched we e-mail you its tracking number, and you can follow it in the {{Order History}} of your account.",
        ),
    ),
    "track_order": IntentSeed(
        category="ORDER",
        asks=(
            "where is {order}?",
            "can you track {order} for me",
            "where is my parcel",
            "{order} still hasn't arrived",
            "what's the status of {order}",
            "I haven't received {order} yet, where is it",
            "track order",
            "I need the tracking number for {order}",
            "has {order} been shipped?",
            "my parcel is late, can you check where it is",
            "how do I track my order",
            "is {order} on its way",
            "it's been a week and {order} hasn't turned up",
            "where can I see if my order has been dispatched",
            "{order} was supposed to come yesterday, where is it",
            "track my package please",
            "where is my shipment, can you check {order}",
        ),
        replies=(
            "When your order is dispatched we e-mail you its tracking number. You can also see the status and tracking number of every order in the {{Order History}} of your account. If your parcel has not arrived 5 working days after the expected date, let us know here and we will trace it with the carrier.",
        ),
        order_replies=(
            "Thank you for your patience. Order {{Order Number}}, placed on {{Order Date}} for {{Order Total}}, has the status: {{Order Status}}. You can see its tracking number in the {{Order History}} of your account once it has been dispatched; UK standard delivery takes {{Delivery Time}} after dispatch. If it has not arrived 5 working days after the expected date, we will trace it with the carrier.",
            "I'm sorry order {{Order Number}} has not reached you yet. You can follow it with the tracking number in the {{Order History}} of your account. If it has not arrived 5 working days after the expected date, reply here and we will trace it with the carrier.",
        ),
    ),
    "set_up_shipping_address": IntentSeed(
        category="SHIPPING_ADDRESS",
        asks=(
            "how do I add a new shipping address?",
            "I want to set up a delivery address",
            "can I save more than one address",
            "where do I enter my shipping address",
            "add an address to my account",
            "I need to set up my work address for deliveries",
            "set up shipping address",
            "how do I create a new address in my address book",
            "I moved to {city}, how do I add my new address",
            "can I add a second delivery address for my mum",
            "where do I save my address so I don't have to type it every time",
            "I can't add my address, it won't save",
            "help setting up a shipping address",
            "I want to register a new delivery address",
        ),
        replies=(
            "You can save several addresses in the {{Address Book}} of your account and pick one at checkout. Please note that we do not deliver to PO boxes or parcel lockers.",
            "To add a shipping address, open the {{Address Book}} in your account and save the new address; at checkout you can then pick it for your order. We deliver to the United Kingdom, the European Union and most other countries.",
        ),
    ),
}

# --- slot values and the ways customers write -------------------------------------------------

# Singular nouns only: the phrasings say "the {item} doesn't fit", "a {item}".
ITEMS = (
    "dress", "jacket", "jumper", "handbag", "scarf", "lipstick", "perfume", "watch",
    "shirt", "coat", "wallet", "skirt", "belt", "hoodie", "blouse", "cardigan",
)  # fmt: skip
CITIES = ("Leeds", "Manchester", "Bristol", "Glasgow", "Cardiff", "Belfast", "London", "York", "Norwich")
COUNTRIES = ("Germany", "France", "Ireland", "Spain", "the US", "Canada", "Australia", "the Netherlands", "Italy")
NAMES = (
    "Priya", "Tom", "Sophie", "James", "Aisha", "Ben", "Chloe", "Daniel", "Emma",
    "Liam", "Grace", "Mohammed", "Olivia", "Jack", "Niamh", "Ravi", "Hannah", "Marek",
)  # fmt: skip
AMOUNTS = ("24.99", "45", "59.90", "12.50", "89", "130", "35.00")
# Invoice references as customers copy them from their invoices.
INVOICE_FORMS = ("INV-{n}", "#{n}", "number {n}", "no. {n}", "{n}")
# How an order is referred to; "{n}" is a demo-shop order number (six digits from 100001).
ORDER_WITH_NUMBER = (
    "order {n}", "order #{n}", "order number {n}", "order no. {n}", "my order {n}", "purchase {n}", "order ref {n}",
)  # fmt: skip
ORDER_WITHOUT_NUMBER = ("my order", "my purchase", "the order", "my last order", "my recent order")
OPENERS = (
    "Hello,", "Hi there,", "Good morning,", "Hi team,", "Dear Alder & Finch team,",
    "Hello, I hope you can help.", "Good afternoon,", "Hi,",
)  # fmt: skip
FILLERS = (
    "I couldn't find the answer on your website.",
    "Sorry if this has been asked before.",
    "It's a bit urgent.",
    "I've been a customer for a few years now.",
    "I'm not very good with websites, sorry.",
    "I've tried a couple of times already.",
)
CLOSERS = (
    "Thank you in advance.",
    "Many thanks!",
    "Thanks for your help.",
    "Thanks.",
    "Looking forward to hearing from you.",
)
SIGN_OFFS = ("Thanks, {name}", "Kind regards,\n{name}", "Many thanks\n{name}", "Regards, {name}", "Cheers, {name}")
# Misspellings customers make of the words these messages use.
MISSPELLINGS = {
    "address": ("adress", "addres"), "received": ("recieved",), "account": ("acount", "accout"),
    "password": ("pasword", "passwrod"), "cancel": ("cancell", "cancle"), "delivery": ("delivary", "delievery"),
    "invoice": ("invoce", "invioce"), "refund": ("refnd", "refundd"), "tracking": ("traking",),
    "order": ("oder", "ordr"), "payment": ("payemnt", "paymnet"), "shipping": ("shiping",),
    "newsletter": ("newsleter",), "register": ("regster",), "customer": ("costumer", "custmer"),
    "please": ("pls", "plz"), "different": ("diffrent",), "arrived": ("arived",), "because": ("cos",),
    "subscribe": ("subscibe",), "complaint": ("complant",), "change": ("chnage",), "receive": ("recieve",),
}  # fmt: skip
CHAT_SPELLING = (
    (r"\byou\b", "u"), (r"\bwant to\b", "wanna"), (r"\bwhere is\b", "wheres"), (r"\bi'm\b", "im"),
    (r"\bdon't\b", "dont"), (r"\bcan't\b", "cant"), (r"\bhaven't\b", "havent"), (r"\bit's\b", "its"),
    (r"\bwhat's\b", "whats"), (r"\bthanks\b", "thx"), (r"\bi've\b", "ive"), (r"\bi'd\b", "id"),
    (r"\bare\b", "r"), (r"\bdoesn't\b", "doesnt"), (r"\bisn't\b", "isnt"),
)  # fmt: skip
QUESTION_START = re.compile(
    r"^(how|what|where|when|why|which|who|can|could|is|are|do|does|did|will|would|has|have|if|any)\b", re.I
)
# (style, weight): how a row is written.
STYLES = (("plain", 30), ("lower", 20), ("sloppy", 22), ("polite", 13), ("signed", 8), ("terse", 4), ("shouty", 3))


def _sentence(text: str) -> str:
    """Capitalised, ending with the punctuation the message calls for."""
    text = text[0].upper() + text[1:]
    if text[-1] not in ".?!":
        last_clause = text.rsplit(", ", 1)[-1]
        text += "?" if QUESTION_START.match(text) or QUESTION_START.match(last_clause) else "."
    return text


def _typo(word: str, rng: random.Random) -> str:
    """One slip of the fingers in a word of five letters or more."""
    i = rng.randrange(1, len(word) - 2)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def _sloppy(text: str, rng: random.Random) -> str:
    """Lower case, chat spelling and a typo or two; order numbers are left alone."""
    text = text.lower()
    for pattern, short in CHAT_SPELLING:
        if rng.random() < 0.5:
            text = re.sub(pattern, short, text)
    words = text.split(" ")
    known = [i for i, w in enumerate(words) if w.strip("?,.!") in MISSPELLINGS]
    misspelt = rng.sample(known, min(len(known), rng.randint(1, 2)))
    for i in misspelt:
        core = words[i].strip("?,.!")
        words[i] = words[i].replace(core, rng.choice(MISSPELLINGS[core]))
    plain = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha() and i not in misspelt]
    if plain and (not known or rng.random() < 0.4):
        i = rng.choice(plain)
        words[i] = _typo(words[i], rng)
    text = " ".join(words)
    return text.rstrip(".") if rng.random() < 0.7 else text


def _fill(template: str, rng: random.Random, *, allow_number: bool) -> tuple[str, str]:
    """(message with its slots filled, the order number it names or "")."""
    number = ""
    if "{order}" in template:
        if allow_number and rng.random() < 0.55:
            number = str(rng.randint(100001, 100240))
            reference = rng.choice(ORDER_WITH_NUMBER).format(n=number)
        else:
            reference = rng.choice(ORDER_WITHOUT_NUMBER)
        template = template.replace("{order}", reference)
    text = template.format(
        item=rng.choice(ITEMS),
        city=rng.choice(CITIES),
        country=rng.choice(COUNTRIES),
        amount=rng.choice(AMOUNTS),
        invoice=rng.choice(INVOICE_FORMS).format(n=rng.randint(20001, 89999)),
    )
    return text, number


def _write(text: str, style: str, rng: random.Random, name: str) -> str:
    if style == "plain":
        return _sentence(text)
    if style == "lower":
        return text.lower()
    if style == "sloppy":
        return _sloppy(text, rng)
    if style == "terse":
        return re.sub(r"^(?:i want to|i need to|i'd like to|please|can you|could you)\s+", "", text.lower()).rstrip(
            "?."
        )
    if style == "shouty":
        return text.upper() + rng.choice(("!!", "!!!", "??", "?!"))
    opener, sentence = rng.choice(OPENERS), _sentence(text)
    if opener.endswith(",") and not re.match(r"I\b|[A-Z]{2}|[A-Z][a-z]+[A-Z]", sentence):
        sentence = sentence[0].lower() + sentence[1:]  # "Hi there, can I..."
    parts = [opener, sentence]
    if rng.random() < 0.5:
        parts.append(rng.choice(FILLERS))
    if style == "signed":
        parts.append(rng.choice(SIGN_OFFS).format(name=name))
    else:
        parts.append(rng.choice(CLOSERS))
    return " ".join(parts).replace(" \n", "\n")


def _reply(spec: IntentSeed, text: str, rng: random.Random, *, has_order: bool, has_name: bool) -> str:
    special = [reply for pattern, reply in spec.special if re.search(pattern, text, re.I)]
    choices = spec.order_replies if has_order and spec.order_replies else spec.replies
    reply = special[0] if special else rng.choice(choices)
    return f"Hello {{{{Customer Name}}}},\n\n{reply}" if has_name else reply


def intent_rows(intent: str, count: int = ROWS_PER_INTENT, *, taken: set[str] | None = None) -> list[dict[str, str]]:
    """``count`` distinct seed rows of one intent (``taken``: texts other intents already use)."""
    spec = INTENTS[intent]
    styles, weights = zip(*STYLES, strict=True)
    taken = taken if taken is not None else set()
    rows: list[dict[str, str]] = []
    for i in range(count * 50):
        if len(rows) == count:
            break
        rng = random.Random(f"support-seed:{intent}:{i}")
        # Every phrasing comes round in turn, so each is written several ways.
        template = spec.asks[i % len(spec.asks)]
        style = rng.choices(styles, weights)[0]
        name = rng.choice(NAMES) if style == "signed" else ""
        # One entity per row (the Bitext shape): a signed message names no order.
        text, number = _fill(template, rng, allow_number=not name)
        text = _write(text, style, rng, name)
        key = " ".join(text.lower().split())
        if key in taken:
            continue
        taken.add(key)
        rows.append(
            {
                "instruction": text,
                "intent": intent,
                "category": spec.category,
                "response": _reply(spec, text, rng, has_order=bool(number), has_name=bool(name)),
                "entity_type": "order_id" if number else "person_name" if name else "",
                "entity_value": number or name,
            }
        )
    if len(rows) < count:
        raise ValueError(f"Only {len(rows)} distinct seed messages for {intent}; add phrasings.")
    return rows


def seed_rows(count: int = ROWS_PER_INTENT, intents: Sequence[str] | None = None) -> list[dict[str, str]]:
    """The seed tickets: ``count`` rows of every intent, in intent order, the same on every run."""
    taken: set[str] = set()
    rows: list[dict[str, str]] = []
    for intent in intents or sorted(INTENTS):
        rows += intent_rows(intent, count, taken=taken)
    return rows


def write_seed_csv(path: str | Path, count: int = ROWS_PER_INTENT) -> dict[str, Any]:
    """Write the seed tickets as a Bitext-format CSV; returns ``{"path", "rows", "intents"}``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = seed_rows(count)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
    return {"path": str(path.resolve()), "rows": len(rows), "intents": len({r["intent"] for r in rows})}


# Slot values for turning the phrasings into example questions of the library's patterns.
NEUTRAL_SLOTS = {"item": "dress", "city": "Leeds", "country": "France", "amount": "45", "invoice": "invoice 20001"}
GREETING = "Hello {{Customer Name}},\n\n"


def pattern_entries() -> list[dict[str, str]]:
    """The shop's reply patterns for the reply library: every reply of every intent, with the questions it answers.

    Each is ``{"intent", "text", "question"}``; ``question`` holds one example message per line (the
    library's vector is their mean). Replies about a named order answer the phrasings that name one.
    """
    entries: list[dict[str, str]] = []
    for intent, spec in INTENTS.items():
        plain = [a.replace("{order}", "my order").format(**NEUTRAL_SLOTS) for a in spec.asks]
        named = [a.replace("{order}", "order 100123").format(**NEUTRAL_SLOTS) for a in spec.asks if "{order}" in a]
        for reply in spec.replies:
            entries.append({"intent": intent, "text": GREETING + reply, "question": "\n".join(plain)})
        for reply in spec.order_replies:
            entries.append({"intent": intent, "text": GREETING + reply, "question": "\n".join(named or plain)})
        for pattern, reply in spec.special:
            asks = [a for a in plain if re.search(pattern, a, re.I)] or plain
            entries.append({"intent": intent, "text": GREETING + reply, "question": "\n".join(asks)})
    return entries
