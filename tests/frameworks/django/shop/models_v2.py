"""The shop's models a release later: a field added, one altered (type, null, default), one
removed, and a constraint dropped and another added."""
import uuid

from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=200)
    email = models.EmailField(unique=True)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True)
    joined = models.DateTimeField(auto_now_add=True)
    profile = models.JSONField(default=dict)
    vip = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["name"])]


class Product(models.Model):
    sku = models.CharField(max_length=20, unique=True)
    price = models.DecimalField(max_digits=24, decimal_places=4)
    stock = models.BigIntegerField(default=10)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(price__gte=0), name="price_not_negative")]


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    placed = models.DateTimeField(null=True)
    products = models.ManyToManyField(Product, through="Line")


class Line(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField()

    class Meta:
        unique_together = [("order", "product")]
